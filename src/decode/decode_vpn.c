/*
 * decode_vpn.c - OpenVPN, strongSwan and FreeRADIUS authentication and
 * connection messages (see decode_vpn.h for the shapes and fields).
 *
 * Three products, one file: all three guard remote access, and their
 * failures feed the same brute-force rules.  Every value is a view into the
 * message; nothing is copied.
 */
#include "decode/decode_vpn.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_svc.h"
#include "decode/decode_text.h"
#include "event/event.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int emit(struct event *ev, const struct decode_svc *svc, const char *decoder)
{
    int r = decode_svc_emit(ev, svc);

    if (r == 0)
        ev->decoder = decoder;
    return r;
}

static void svc_init(struct decode_svc *svc, const char *module, const char *dataset)
{
    memset(svc, 0, sizeof(*svc));
    svc->module = module;
    svc->dataset = dataset;
}

static void failure(struct decode_svc *svc, const char *action, const char *category)
{
    svc->action = action;
    svc->category = category;
    svc->outcome = "failure";
}

static void success(struct decode_svc *svc, const char *action)
{
    svc->action = action;
    svc->category = "authentication";
    svc->outcome = "success";
}

/* "IP:PORT", "[AF_INET]IP:PORT" or "[AF_INET6]IP:PORT" as the whole span:
 * the address and port to `svc`; 0 when it is not one. */
static int addr_port(struct decode_span a, struct decode_span *ret_ip, struct decode_span *ret_port)
{
    const char *colon;

    if (text_starts(a, TEXT_LIT("[AF_INET]")))
        a = text_skip(a, 9);
    else if (text_starts(a, TEXT_LIT("[AF_INET6]")))
        a = text_skip(a, 10);
    if (!a.n || !(colon = memrchr(a.p, ':', a.n)))
        return 0;
    ret_ip->p = a.p;
    ret_ip->n = (size_t)(colon - a.p);
    ret_port->p = colon + 1;
    ret_port->n = a.n - ret_ip->n - 1;
    return decode_util_is_ip(ret_ip->p, ret_ip->n) && decode_util_is_port(ret_port->p, ret_port->n);
}

/* ------------------------------------------------------------- OpenVPN */

#define OVPN_AUTH_OK "TLS: Username/Password authentication succeeded for username '"

/* The peer prefix "[CN/]IP:PORT " of a client instance's messages. */
static struct decode_span ovpn_peer(struct decode_span m, struct decode_svc *svc)
{
    struct decode_span w = text_upto(m, " "), a = w, cn = {NULL, 0}, ip, port;
    const char *slash;

    if (w.n == m.n)
        return m;
    if ((slash = memrchr(w.p, '/', w.n))) {
        cn.p = w.p;
        cn.n = (size_t)(slash - w.p);
        a = text_skip(w, cn.n + 1);
    }
    if (!addr_port(a, &ip, &port))
        return m;
    svc->source_ip = ip;
    svc->source_port = port;
    svc->user = cn;
    return text_skip(m, w.n + 1);
}

int decode_openvpn(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr)
{
    struct decode_span m = {p, len}, v;
    struct decode_svc svc;

    (void)ctx;
    (void)reterr;
    svc_init(&svc, "openvpn", "openvpn.log");
    m = ovpn_peer(m, &svc);
    if (text_starts(m, TEXT_LIT("TLS Auth Error: Auth Username/Password verification failed"))) {
        failure(&svc, "auth_failure", "authentication");
    } else if (text_starts(m, TEXT_LIT("AUTH-PAM: BACKGROUND: user '"))) {
        struct decode_span u;
        v = text_skip(m, 28);
        u = text_upto(v, "'");
        if (u.n == v.n || !text_starts(text_skip(v, u.n), TEXT_LIT("' failed to authenticate")))
            return -ENOENT;
        failure(&svc, "auth_failure", "authentication");
        svc.user = u;
        svc.reason = text_after(v, TEXT_LIT("failed to authenticate: "));
    } else if (text_starts(m,
                           TEXT_LIT("WARNING: Failed running command (--auth-user-pass-verify)"))) {
        failure(&svc, "auth_failure", "authentication");
        svc.reason = text_after(m, TEXT_LIT("): "));
    } else if (text_starts(m, TEXT_LIT("PLUGIN_CALL: POST ")) &&
               text_find(m, TEXT_LIT("PLUGIN_AUTH_USER_PASS_VERIFY status=")) >= 0) {
        v = text_after(m, TEXT_LIT("PLUGIN_AUTH_USER_PASS_VERIFY status="));
        if (text_starts(v, TEXT_LIT("0")))
            success(&svc, "login");
        else
            failure(&svc, "auth_failure", "authentication");
    } else if (text_starts(m, TEXT_LIT(OVPN_AUTH_OK))) {
        v = text_skip(m, sizeof(OVPN_AUTH_OK) - 1);
        svc.user = text_upto(v, "'");
        if (svc.user.n == v.n)
            return -ENOENT;
        success(&svc, "login");
    } else if (text_starts(m, TEXT_LIT("VERIFY ERROR: "))) {
        failure(&svc, "cert_verify_failure", "authentication");
        svc.reason = text_upto(text_after(m, TEXT_LIT("error=")), ":");
    } else if (text_starts(m, TEXT_LIT("TLS Error: TLS handshake failed"))) {
        failure(&svc, "tls_handshake_failure", "network");
    } else if (m.n && m.p[0] == '[' &&
               (v = text_after(m, TEXT_LIT("] Peer Connection Initiated with "))).p) {
        struct decode_span ip, port;
        svc.user = text_upto(text_skip(m, 1), "]");
        if (addr_port(text_upto(v, " "), &ip, &port)) {
            svc.source_ip = ip;
            svc.source_port = port;
        }
        success(&svc, "connected");
    } else {
        return -ENOENT;
    }
    return emit(ev, &svc, "openvpn");
}

/* ---------------------------------------------------------- strongSwan */

/* The quoted identity after `lit` ("... for 'A' - 'B'"): the second one. */
static struct decode_span second_quoted(struct decode_span s)
{
    struct decode_span v = text_after(s, TEXT_LIT("' - '"));

    return v.p ? text_upto(v, "'") : v;
}

int decode_strongswan(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr)
{
    struct decode_span m = {p, len}, conn = {NULL, 0}, v;
    struct decode_svc svc;
    size_t k = 0;
    int r;

    (void)ctx;
    (void)reterr;
    /* "NN[SUB] " thread and subsystem */
    while (k < m.n && is_digit(m.p[k]))
        k++;
    if (k == 0 || k >= m.n || m.p[k] != '[')
        return -ENOENT;
    m = text_skip(m, k);
    v = text_upto(m, "]");
    if (v.n == m.n || v.n > 8)
        return -ENOENT;
    m = text_skip(m, v.n + 1);
    while (m.n && m.p[0] == ' ')
        m = text_skip(m, 1);
    if (m.n && m.p[0] == '<') {
        conn = text_upto(text_skip(m, 1), "|>");
        v = text_upto(m, ">");
        if (v.n == m.n)
            return -ENOENT;
        m = text_skip(m, v.n + 1);
        while (m.n && m.p[0] == ' ')
            m = text_skip(m, 1);
    }
    svc_init(&svc, "strongswan", "strongswan.log");
    if (text_starts(m, TEXT_LIT("EAP method ")) &&
        (v = text_after(m, TEXT_LIT(" failed for peer "))).p) {
        failure(&svc, "eap_failure", "authentication");
        svc.source_ip = text_upto(v, " ");
        svc.reason = text_before(text_skip(m, 11), TEXT_LIT(" failed for peer "));
    } else if ((text_starts(m, TEXT_LIT("tried ")) &&
                text_find(m, TEXT_LIT("but MAC mismatched")) >= 0) ||
               text_starts(m, TEXT_LIT("no shared key found for "))) {
        failure(&svc, "psk_failure", "authentication");
        svc.user = second_quoted(m);
        svc.reason = text_starts(m, TEXT_LIT("no ")) ? decode_util_cstr("no shared key found")
                                                     : decode_util_cstr("MAC mismatched");
    } else if (text_starts(m, TEXT_LIT("received AUTHENTICATION_FAILED notify error"))) {
        failure(&svc, "auth_failure", "authentication");
    } else if (text_starts(m, TEXT_LIT("IKE_SA ")) &&
               (v = text_after(m, TEXT_LIT(" established between "))).p) {
        /* "LIP[LID]...RIP[RID]" */
        struct decode_span local = text_before(v, TEXT_LIT("..."));
        struct decode_span remote = text_after(v, TEXT_LIT("..."));
        svc.dest_ip = text_upto(local, "[");
        if (remote.p) {
            svc.source_ip = text_upto(remote, "[");
            svc.user = text_between(remote, TEXT_LIT("["), ']');
        }
        success(&svc, "connected");
    } else if ((v = text_upto(m, " ")).n < m.n && decode_util_is_ip(v.p, v.n) &&
               text_starts(text_skip(m, v.n), TEXT_LIT(" is initiating a"))) {
        svc.source_ip = v;
        svc.action = "connection_attempt";
        svc.category = "network";
        svc.type = "start";
    } else if (text_starts(m, TEXT_LIT("received EAP identity '"))) {
        v = text_skip(m, 23);
        svc.user = text_upto(v, "'");
        if (svc.user.n == v.n)
            return -ENOENT;
        svc.action = "eap_identity";
        svc.category = "authentication";
    } else {
        return -ENOENT;
    }
    if ((r = emit(ev, &svc, "strongswan")) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("strongswan.connection"), conn)) < 0)
        return r;
    return 0;
}

/* ---------------------------------------------------------- FreeRADIUS */

/* radius.log's "Www Mmm dd hh:mm:ss yyyy : " prefix, if there. */
static struct decode_span radius_prefix(struct decode_span m)
{
    /* "Mon Jan  1 10:00:00 2024 : " is 27 bytes; the day may be 2 digits */
    if (m.n >= 27 && m.p[3] == ' ' && m.p[7] == ' ' && m.p[13] == ':' && m.p[16] == ':') {
        struct decode_span rest = text_after(text_skip(m, 19), TEXT_LIT(" : "));
        if (rest.p && rest.p - m.p <= 30)
            return rest;
    }
    return m;
}

int decode_freeradius(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr)
{
    struct decode_span m = {p, len}, head, who, from, nas, cli;
    struct decode_svc svc;
    const char *br;
    size_t kw;
    int r;

    (void)ctx;
    (void)reterr;
    m = radius_prefix(m);
    if (!text_starts(m, TEXT_LIT("Auth: ")))
        return -ENOENT;
    m = text_skip(m, 6);
    if (m.n && m.p[0] == '(') {
        struct decode_span id = text_upto(text_skip(m, 1), ")");
        if (id.n + 2 > m.n)
            return -ENOENT;
        m = text_skip(m, id.n + 2);
        while (m.n && m.p[0] == ' ')
            m = text_skip(m, 1);
    }
    svc_init(&svc, "freeradius", "freeradius.log");
    /* "Login incorrect (REASON): [USER/...] (from client NAS port P cli X)";
     * the reason may hold ": " itself, so the user's " [" after it is the
     * anchor, searched from the end of the head. */
    if (text_starts(m, TEXT_LIT("Login incorrect"))) {
        failure(&svc, "auth_failure", "authentication");
        kw = 15;
    } else if (text_starts(m, TEXT_LIT("Invalid user"))) {
        failure(&svc, "auth_failure", "authentication");
        kw = 12;
    } else if (text_starts(m, TEXT_LIT("Login OK"))) {
        success(&svc, "login");
        kw = 8;
    } else {
        return -ENOENT;
    }
    svc.reason = (struct decode_span){m.p, kw};
    head = text_before(m, TEXT_LIT(" (from client "));
    br = head.n ? memrchr(head.p, '[', head.n) : NULL;
    if (!br || (size_t)(br - head.p) < kw + 2 || br[-1] != ' ' || br[-2] != ':')
        return -ENOENT;
    who = text_skip(head, (size_t)(br - head.p) + 1);
    if (!who.n || who.p[who.n - 1] != ']')
        return -ENOENT;
    who.n--;
    /* never the logged password after the '/' */
    svc.user = text_upto(who, "/");
    /* "Login incorrect (pap: Cleartext password does not match): [" */
    if (head.p[kw] == ' ' && head.p[kw + 1] == '(' && br - head.p >= (long)kw + 5 && br[-3] == ')')
        svc.reason = (struct decode_span){head.p + kw + 2, (size_t)(br - 3 - (head.p + kw + 2))};
    if (svc.outcome[0] == 's')
        svc.reason = (struct decode_span){NULL, 0};
    from = text_after(m, TEXT_LIT(" (from client "));
    nas = text_upto(from, " )");
    cli = text_upto(text_after(from, TEXT_LIT(" cli ")), " )");
    svc.source_ip = text_ip(cli);
    if ((r = emit(ev, &svc, "freeradius")) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("freeradius.client"), nas)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("freeradius.calling_station_id"), cli)) < 0)
        return r;
    return 0;
}
