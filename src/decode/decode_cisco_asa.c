/*
 * decode_cisco_asa.c - Cisco ASA and FTD syslog messages.
 *
 * A message is "%ASA-<severity>-<id>: <text>", the text's shape fixed per
 * message id by Cisco's "Syslog Messages" guide.  Each family of ids is
 * read by one small function with a cursor over the text: fixed words are
 * matched, addresses are read as "[interface:]address[/port]" with the
 * optional "(mapped)" and "(identity user)" that ASA puts behind them.  A
 * message whose id is not listed, or whose text does not have its id's
 * shape, still gives its id, severity and vendor (the record is an ASA
 * message either way).  FTD's own events (430001-430005) are "Key: value"
 * lists instead, read by ftd_event().  Every value is a view into the message except the
 * lowercased transport and action.
 */
#include "decode/decode_cisco_asa.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "decode/decode_util.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"

#define LIT(s) s, sizeof(s) - 1

/*
 * ASA's own field names (no FIELD_ constant) to ids, kept per thread by
 * the name's address (each is a literal of this file) for the dictionary
 * generation that gave them: a load and two compares where
 * decode_fieldid_intern() hashed and compared the name (issue 24).  A name
 * is asked for where its field is added, as before; a refusal
 * (FIELD_NONE) is not kept, the dictionary counts each one.
 */
#define ASA_NAME_IDS 64
static _Thread_local struct asa_name_id {
    const char *name;
    uint32_t id, gen;
} asa_name_ids[ASA_NAME_IDS];

static uint32_t asa_name_id(const char *name, size_t n)
{
    /* the address mixed: the linker packs the literals a few bytes apart */
    size_t h = (size_t)(((uint64_t)(uintptr_t)name * 0x9e3779b97f4a7c15ull) >> 58);
    struct asa_name_id *e = &asa_name_ids[h];
    uint32_t gen = field_generation(), id;

    if (e->name == name && e->gen == gen)
        return e->id;
    id = decode_fieldid_intern(name, n);
    if (id != FIELD_NONE) {
        e->name = name;
        e->id = id;
        e->gen = gen;
    }
    return id;
}

/* asa_add_named() through asa_name_id(): nothing for an empty
 * span, the name asked for only then. */
static int asa_add_named(struct event *ev, const char *name, size_t n, struct decode_span s)
{
    if (!s.n)
        return 0;
    return decode_util_add(ev, asa_name_id(name, n), s);
}

/* One side of a connection as a message names it. */
struct asa_ep {
    struct decode_span iface, ip, port, nat_ip, nat_port;
    struct decode_span user; /* identity firewall "(DOMAIN\user)" */
};

/* What one message said; emitted in one place. */
struct asa_result {
    const char *action;   /* static, lowercase */
    const char *category; /* event.category */
    const char *type;     /* event.type */
    const char *outcome;  /* success/failure or NULL */
    const char *direction;
    struct decode_span verb; /* action from the message's own verb (lowercased) */
    struct decode_span proto;
    int icmp; /* ICMP "ports" are ids and types: not emitted as ports */
    struct asa_ep src, dst;
    struct decode_span user, group, rule, reason, conn_id, bytes, command, icmp_type, icmp_code;
};

struct cur {
    const char *p;
    size_t n, i;
};

/* The cursor's loops work on a local copy of c->i: stored through c each
 * step, it was reloaded for every byte (a char may alias it), a third of
 * endpoint()'s instructions (issue 24). */
static void sp(struct cur *c)
{
    size_t i = c->i;

    while (i < c->n && c->p[i] == ' ')
        i++;
    c->i = i;
}

/* Matches `s` at the cursor (after any spaces), advancing past it. */
static int lit(struct cur *c, const char *s, size_t n)
{
    sp(c);
    if (c->n - c->i >= n && memcmp(c->p + c->i, s, n) == 0) {
        c->i += n;
        return 1;
    }
    return 0;
}

/* The next space-delimited word. */
static struct decode_span word(struct cur *c)
{
    struct decode_span w;

    sp(c);
    w.p = c->p + c->i;
    c->i = decode_util_scan_to(c->p, c->i, c->n, ' ');
    w.n = (size_t)(c->p + c->i - w.p);
    return w;
}

/* Moves past the next `s`; 0 when there is none (the cursor stays). */
static int past(struct cur *c, const char *s, size_t n)
{
    const char *f = c->i < c->n ? decode_util_find(c->p + c->i, c->n - c->i, s, n) : NULL;

    if (!f)
        return 0;
    c->i = (size_t)(f - c->p) + n;
    return 1;
}

/* Up to (not including) `end`, or to the end of the text. */
static struct decode_span upto(struct cur *c, char end)
{
    struct decode_span s = {c->p + c->i, 0};
    size_t i = c->i;

    while (i < c->n && c->p[i] != end)
        i++;
    c->i = i;
    s.n = (size_t)(c->p + c->i - s.p);
    return s;
}

static int span_is(struct decode_span s, const char *lit_s, size_t n)
{
    if (s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char a = s.p[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != lit_s[i])
            return 0;
    }
    return 1;
}

/* "[iface:]ip[/port]" into ep; 0, or -1 when no address is there. */
static int split_addr(struct decode_span t, struct asa_ep *ep, int nat)
{
    const char *slash = t.n ? memrchr(t.p, '/', t.n) : NULL;
    struct decode_span a = t, port = {NULL, 0}, iface = {NULL, 0};

    if (slash) {
        a.n = (size_t)(slash - t.p);
        port.p = slash + 1;
        port.n = t.n - a.n - 1;
        if (!decode_util_is_port(port.p, port.n))
            return -1;
    }
    if (!decode_util_is_ip(a.p, a.n)) {
        const char *colon = memchr(a.p, ':', a.n);
        if (!colon)
            return -1;
        iface.p = a.p;
        iface.n = (size_t)(colon - a.p);
        a.p = colon + 1;
        a.n = t.n - iface.n - 1 - (slash ? port.n + 1 : 0);
        if (!decode_util_is_ip(a.p, a.n))
            return -1;
    }
    if (nat) {
        ep->nat_ip = a;
        ep->nat_port = port;
    } else {
        ep->ip = a;
        ep->port = port;
        ep->iface = iface;
    }
    return 0;
}

/* A "(...)" at the cursor, without a space before it; its inside. */
static int paren(struct cur *c, struct decode_span *ret)
{
    size_t k;

    if (c->i >= c->n || c->p[c->i] != '(')
        return 0;
    for (k = c->i + 1; k < c->n && c->p[k] != ')' && c->p[k] != ' '; k++)
        ;
    if (k >= c->n || c->p[k] != ')')
        return 0;
    ret->p = c->p + c->i + 1;
    ret->n = k - c->i - 1;
    c->i = k + 1;
    return 1;
}

/*
 * An endpoint: "[iface:]ip[/port][(user)][ (mapped-ip[/port])[(user)]]".
 * Returns 0, or -1 (cursor unspecified) when no address is there.
 */
static int endpoint(struct cur *c, struct asa_ep *ep)
{
    struct decode_span t, in;
    size_t save;

    sp(c);
    t.p = c->p + c->i;
    {
        size_t i = c->i;

        while (i < c->n && c->p[i] != ' ' && c->p[i] != '(' && c->p[i] != ',')
            i++;
        c->i = i;
    }
    t.n = (size_t)(c->p + c->i - t.p);
    while (t.n && t.p[t.n - 1] == ':')
        t.n--;
    if (split_addr(t, ep, 0) < 0)
        return -1;
    if (paren(c, &in))
        ep->user = in;
    save = c->i;
    if (c->i + 1 < c->n && c->p[c->i] == ' ' && c->p[c->i + 1] == '(') {
        c->i++;
        if (paren(c, &in) && split_addr(in, ep, 1) == 0) {
            if (paren(c, &in))
                ep->user = in;
        } else {
            c->i = save;
        }
    }
    return 0;
}

/* "(user)" closing the message, after what was read (cursor c): the AAA
 * user of the connection. */
static void trailing_user(struct decode_span text, const struct cur *c, struct asa_result *res)
{
    const char *open;

    if (text.n < 4 || text.p[text.n - 1] != ')')
        return;
    open = memrchr(text.p, '(', text.n - 1);
    if (!open || open == text.p || open[-1] != ' ' || open < text.p + c->i)
        return;
    res->user.p = open + 1;
    res->user.n = (size_t)(text.p + text.n - 1 - res->user.p);
    if (memchr(res->user.p, ' ', res->user.n))
        res->user.n = 0;
}

static void deny(struct asa_result *res)
{
    res->category = "network";
    res->type = "denied";
    res->outcome = "failure";
}

/* "Deny|Denied" at the start: event.action from that verb. */
static void verb_action(struct asa_result *res, struct decode_span w)
{
    res->verb = w;
    deny(res);
}

/* "(type T, code C)" anywhere after the cursor. */
static void icmp_type_code(struct cur *c, struct asa_result *res)
{
    struct cur k = *c;

    if (past(&k, LIT("(type "))) {
        res->icmp_type = upto(&k, ',');
        if (lit(&k, LIT(", code ")) || lit(&k, LIT(",code ")))
            res->icmp_code = upto(&k, ')');
    }
}

/* " on interface IF" after the cursor: the interface the packet came in on. */
static void on_interface(struct cur *c, struct asa_result *res)
{
    struct cur k = *c;

    if (past(&k, LIT("on interface ")))
        res->src.iface = word(&k);
}

/*
 * 106001, 106006, 106007, 106012, 106015-106017, 106020-106022, 500003:
 * "<Verb> [inbound|outbound] PROTO ... from A to B ... [on interface IF]".
 */
static int m_from_to(struct cur *c, struct asa_result *res)
{
    struct decode_span w = word(c), proto;

    if (span_is(w, LIT("inbound"))) {
        /* 106001: "Inbound TCP connection denied from" */
        proto = word(c);
        res->verb = (struct decode_span){"denied", 6};
        deny(res);
        res->direction = "inbound";
    } else {
        verb_action(res, w);
        proto = word(c);
        if (span_is(proto, LIT("inbound")) || span_is(proto, LIT("outbound"))) {
            res->direction = span_is(proto, LIT("inbound")) ? "inbound" : "outbound";
            proto = word(c);
        }
    }
    res->proto = proto;
    if (!past(c, LIT(" from ")))
        return -1;
    if (c->i < c->n && c->p[c->i] == '(') /* 106016: "from (A) to B" */
        c->i++;
    if (endpoint(c, &res->src) < 0)
        return -1;
    if (c->i < c->n && c->p[c->i] == ')')
        c->i++;
    if (!lit(c, LIT("to")) || endpoint(c, &res->dst) < 0)
        return -1;
    on_interface(c, res);
    return 0;
}

/*
 * 106010, 106014, 106023: "Deny [inbound|outbound] [protocol] PROTO src
 * IF:A[/p] dst IF:B[/q] [(type T, code C)] [by access-group "ACL" ...]".
 */
static int m_src_dst(struct cur *c, struct asa_result *res)
{
    struct cur k;

    verb_action(res, word(c));
    if (lit(c, LIT("inbound ")))
        res->direction = "inbound";
    else if (lit(c, LIT("outbound ")))
        res->direction = "outbound";
    lit(c, LIT("protocol "));
    res->proto = word(c);
    if (!lit(c, LIT("src")) || endpoint(c, &res->src) < 0 || !lit(c, LIT("dst")) ||
        endpoint(c, &res->dst) < 0)
        return -1;
    icmp_type_code(c, res);
    k = *c;
    if (past(&k, LIT("by access-group \""))) {
        res->rule = upto(&k, '"');
    }
    return 0;
}

/* 106002, 106018: "PROTO Connection denied by outbound list ACL src A dest B",
 * "ICMP packet type T denied by outbound list ACL src A dest B". */
static int m_denied_by_list(struct cur *c, struct asa_result *res)
{
    struct decode_span w;

    res->proto = word(c);
    res->verb = (struct decode_span){"denied", 6};
    deny(res);
    if (!past(c, LIT("denied by ")))
        return -1;
    w = word(c);
    res->direction = span_is(w, LIT("outbound")) ? "outbound" : "inbound";
    if (!lit(c, LIT("list")))
        return -1;
    res->rule = word(c);
    if (!lit(c, LIT("src")) || endpoint(c, &res->src) < 0 || !lit(c, LIT("dest")) ||
        endpoint(c, &res->dst) < 0)
        return -1;
    return 0;
}

/* 106100: "access-list ACL permitted|denied|est-allowed PROTO IF/A(p) ->
 * IF/B(q) hit-cnt N ...": the address is "iface/ip(port)". */
static int acl_ep(struct cur *c, struct asa_ep *ep)
{
    struct decode_span t = word(c), port = {NULL, 0};
    const char *slash, *open;

    slash = t.n ? memchr(t.p, '/', t.n) : NULL;
    if (!slash)
        return -1;
    ep->iface.p = t.p;
    ep->iface.n = (size_t)(slash - t.p);
    t.n -= ep->iface.n + 1;
    t.p = slash + 1;
    open = t.n ? memchr(t.p, '(', t.n) : NULL;
    if (open && t.p[t.n - 1] == ')') {
        port.p = open + 1;
        port.n = (size_t)(t.p + t.n - 1 - port.p);
        t.n = (size_t)(open - t.p);
    }
    if (!decode_util_is_ip(t.p, t.n) || (port.n && !decode_util_is_port(port.p, port.n)))
        return -1;
    ep->ip = t;
    ep->port = port;
    return 0;
}

static int m_access_list(struct cur *c, struct asa_result *res)
{
    struct decode_span verdict;

    if (!lit(c, LIT("access-list")))
        return -1;
    res->rule = word(c);
    verdict = word(c);
    res->verb = verdict;
    res->category = "network";
    if (span_is(verdict, LIT("denied"))) {
        deny(res);
    } else {
        res->type = "allowed";
        res->outcome = "success";
    }
    res->proto = word(c);
    if (acl_ep(c, &res->src) < 0 || !lit(c, LIT("->")) || acl_ep(c, &res->dst) < 0)
        return -1;
    return 0;
}

/*
 * 302013, 302015, 302017: "Built inbound|outbound PROTO connection ID
 * for|from A [(mapped)] to B [(mapped)] [(user)]".  An outbound connection
 * was opened by the second side.
 */
static int m_built(struct cur *c, struct decode_span text, struct asa_result *res)
{
    struct decode_span dir;
    struct asa_ep a, b;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    res->verb = word(c);
    dir = word(c);
    res->proto = word(c);
    if (!lit(c, LIT("connection")))
        return -1;
    res->conn_id = word(c);
    if (!(lit(c, LIT("for ")) || lit(c, LIT("from "))) || endpoint(c, &a) < 0 ||
        !lit(c, LIT("to")) || endpoint(c, &b) < 0)
        return -1;
    res->category = "network";
    res->type = "start";
    res->outcome = "success";
    if (span_is(dir, LIT("outbound"))) {
        res->direction = "outbound";
        res->src = b;
        res->dst = a;
    } else {
        res->direction = span_is(dir, LIT("inbound")) ? "inbound" : NULL;
        res->src = a;
        res->dst = b;
    }
    trailing_user(text, c, res);
    return 0;
}

/* 302014, 302016, 302018: "Teardown PROTO connection ID for A to B
 * duration D bytes N [reason] [(user)]": the message does not say which
 * side opened it; the first is taken as the source. */
static int m_teardown(struct cur *c, struct decode_span text, struct asa_result *res)
{
    struct cur k;

    res->verb = word(c);
    res->proto = word(c);
    if (!lit(c, LIT("connection")))
        return -1;
    res->conn_id = word(c);
    if (!(lit(c, LIT("for ")) || lit(c, LIT("from "))) || endpoint(c, &res->src) < 0 ||
        !lit(c, LIT("to")) || endpoint(c, &res->dst) < 0)
        return -1;
    res->category = "network";
    res->type = "end";
    res->outcome = "success";
    k = *c;
    if (past(&k, LIT(" bytes "))) {
        res->bytes = word(&k);
        sp(&k);
        res->reason = (struct decode_span){k.p + k.i, k.n - k.i};
    }
    trailing_user(text, c, res);
    if (res->user.n && res->reason.n) {
        /* the reason ends before " (user)" */
        const char *end = res->user.p - 2;
        res->reason.n = end > res->reason.p ? (size_t)(end - res->reason.p) : 0;
    }
    return 0;
}

/* 302020, 302021: "Built inbound|outbound ICMP connection for faddr F
 * gaddr G laddr L [(user)]", "Teardown ICMP connection for faddr ...".
 * Inbound: the foreign host opened it; outbound and teardown (which says
 * nothing): the local one. */
static int m_icmp_conn(struct cur *c, struct decode_span text, struct asa_result *res)
{
    struct asa_ep f, g, l;
    struct decode_span w;

    memset(&f, 0, sizeof(f));
    memset(&g, 0, sizeof(g));
    memset(&l, 0, sizeof(l));
    res->verb = word(c);
    w = word(c);
    if (span_is(w, LIT("inbound")) || span_is(w, LIT("outbound"))) {
        res->direction = span_is(w, LIT("inbound")) ? "inbound" : "outbound";
        w = word(c);
    }
    res->proto = w;
    if (!lit(c, LIT("connection for faddr")) || endpoint(c, &f) < 0 || !lit(c, LIT("gaddr")) ||
        endpoint(c, &g) < 0 || !lit(c, LIT("laddr")) || endpoint(c, &l) < 0)
        return -1;
    l.nat_ip = g.ip;
    if (!l.user.n)
        l.user = g.user;
    res->icmp = 1;
    res->category = "network";
    res->type = span_is(res->verb, LIT("built")) ? "start" : "end";
    res->outcome = "success";
    if (res->direction && res->direction[0] == 'i') {
        res->src = f;
        res->dst = l;
    } else {
        res->src = l;
        res->dst = f;
    }
    trailing_user(text, c, res);
    return 0;
}

/* 305011, 305012: "Built|Teardown dynamic|static PROTO translation from
 * IF:A/p to IF:M/q [duration D]": A is translated to M. */
static int m_xlate(struct cur *c, struct asa_result *res)
{
    struct asa_ep m;

    memset(&m, 0, sizeof(m));
    res->verb = word(c);
    word(c); /* dynamic, static, identity */
    res->proto = word(c);
    if (!lit(c, LIT("translation from")) || endpoint(c, &res->src) < 0 || !lit(c, LIT("to")) ||
        endpoint(c, &m) < 0)
        return -1;
    res->src.nat_ip = m.ip;
    res->src.nat_port = m.port;
    res->category = "network";
    res->type = span_is(res->verb, LIT("built")) ? "start" : "end";
    res->outcome = "success";
    return 0;
}

/* 313001: "Denied ICMP type=T, code=C from A on interface IF";
 * 313004: "Denied ICMP type=T, from laddr A on interface IF to B: ...". */
static int m_icmp_denied(struct cur *c, struct asa_result *res)
{
    verb_action(res, word(c));
    res->proto = word(c);
    res->icmp = 1;
    if (lit(c, LIT("type=")))
        res->icmp_type = upto(c, ',');
    if (lit(c, LIT(", code=")))
        res->icmp_code = word(c);
    if (!past(c, LIT("from ")))
        return -1;
    lit(c, LIT("laddr "));
    if (endpoint(c, &res->src) < 0)
        return -1;
    if (lit(c, LIT("on interface")))
        res->src.iface = word(c);
    if (lit(c, LIT("to")) && endpoint(c, &res->dst) < 0)
        return -1;
    return 0;
}

/* 313005: "No matching connection for ICMP error message: icmp src IF:A
 * dst IF:B (type T, code C) on IF interface. ..." */
static int m_icmp_nomatch(struct cur *c, struct asa_result *res)
{
    if (!past(c, LIT("error message: ")))
        return -1;
    res->proto = word(c);
    res->icmp = 1;
    res->verb = (struct decode_span){"dropped", 7};
    deny(res);
    if (!lit(c, LIT("src")) || endpoint(c, &res->src) < 0 || !lit(c, LIT("dst")) ||
        endpoint(c, &res->dst) < 0)
        return -1;
    icmp_type_code(c, res);
    return 0;
}

/* 710001-710005: "PROTO access requested|permitted|denied by ACL|request
 * discarded from A/p to IF:B/q". */
static int m_to_box(struct cur *c, struct asa_result *res)
{
    struct cur k;
    struct decode_span w;

    res->proto = word(c);
    k = *c;
    if (!past(&k, LIT(" from ")))
        return -1;
    /* the verb: the word before "from" or "by" */
    w = word(c);
    while (c->i < k.i - 6) {
        struct decode_span n = word(c);
        if (span_is(n, LIT("by")))
            break;
        w = n;
    }
    c->i = k.i;
    res->verb = w;
    res->category = "network";
    if (span_is(w, LIT("permitted")) || span_is(w, LIT("requested"))) {
        res->type = "allowed";
        res->outcome = "success";
    } else {
        deny(res);
    }
    if (endpoint(c, &res->src) < 0 || !lit(c, LIT("to")) || endpoint(c, &res->dst) < 0)
        return -1;
    return 0;
}

/* 110002: "Failed to locate egress interface for PROTO from IF:A/p to B/q" */
static int m_no_egress(struct cur *c, struct asa_result *res)
{
    if (!past(c, LIT("interface for ")))
        return -1;
    res->proto = word(c);
    res->verb = (struct decode_span){"dropped", 7};
    deny(res);
    if (!lit(c, LIT("from")) || endpoint(c, &res->src) < 0 || !lit(c, LIT("to")) ||
        endpoint(c, &res->dst) < 0)
        return -1;
    return 0;
}

/* 111008: "User 'U' executed the 'CMD' command."; 111010: "User 'U',
 * running 'APP' from IP A, executed 'CMD'". */
static int m_command(struct cur *c, struct asa_result *res)
{
    if (!lit(c, LIT("User '")))
        return -1;
    res->user = upto(c, '\'');
    res->action = "command-executed";
    res->category = "configuration";
    res->type = "change";
    res->outcome = "success";
    if (past(c, LIT(" from IP "))) {
        struct decode_span ip = upto(c, ',');
        if (decode_util_is_ip(ip.p, ip.n))
            res->src.ip = ip;
    }
    if (past(c, LIT("executed")) && (lit(c, LIT("the '")) || lit(c, LIT("'"))))
        res->command = upto(c, '\'');
    return 0;
}

/* " key = value :" pairs of the 113xxx AAA messages. */
static struct decode_span aaa_value(struct decode_span text, const char *key, size_t n)
{
    struct cur c = {text.p, text.n, 0};
    struct decode_span v = {NULL, 0};

    if (past(&c, key, n)) {
        v = upto(&c, ':');
        while (v.n && v.p[v.n - 1] == ' ')
            v.n--;
        while (v.n && v.p[0] == ' ') {
            v.p++;
            v.n--;
        }
        /* "user = U, ..." in some forms */
        if (v.n && memchr(v.p, ',', v.n))
            v.n = (size_t)((const char *)memchr(v.p, ',', v.n) - v.p);
    }
    return v;
}

/* 113004, 113005, 113015 (and 113008, 113012): "AAA user authentication
 * Successful|Rejected : reason = R : server = S : user = U : user IP = A". */
static int m_aaa(struct decode_span text, int id, struct asa_result *res)
{
    struct decode_span ip;

    res->user = aaa_value(text, LIT(" user = "));
    res->reason = aaa_value(text, LIT("reason = "));
    ip = aaa_value(text, LIT("user IP = "));
    if (decode_util_is_ip(ip.p, ip.n))
        res->src.ip = ip;
    ip = aaa_value(text, LIT("server = "));
    if (decode_util_is_ip(ip.p, ip.n))
        res->dst.ip = ip;
    res->category = "authentication";
    res->action =
        decode_util_find(text.p, text.n, LIT("authorization")) ? "authorization" : "authentication";
    if (id == 113005 || id == 113015 || decode_util_find(text.p, text.n, LIT("Rejected"))) {
        res->outcome = "failure";
        res->type = "info";
    } else {
        res->outcome = "success";
        res->type = "start";
    }
    return res->user.n ? 0 : -1;
}

/* 611101, 611102: "User authentication succeeded|failed: [IP address: A,]
 * Uname: U" (management sessions). */
static int m_mgmt_auth(struct cur *c, int id, struct asa_result *res)
{
    struct cur k = *c;

    res->category = "authentication";
    res->action = "authentication";
    res->outcome = id == 611101 ? "success" : "failure";
    res->type = id == 611101 ? "start" : "info";
    if (past(&k, LIT("IP address: "))) {
        struct decode_span ip = upto(&k, ',');
        if (decode_util_is_ip(ip.p, ip.n))
            res->src.ip = ip;
    }
    if (!past(c, LIT("Uname: ")))
        return -1;
    res->user = word(c);
    return 0;
}

/* A "<value>" after `key` in the VPN messages ("Group <G> User <U> IP <A>"). */
static struct decode_span angle(struct decode_span text, const char *key, size_t n)
{
    struct cur c = {text.p, text.n, 0};
    struct decode_span v = {NULL, 0};

    if (past(&c, key, n))
        v = upto(&c, '>');
    if (c.i >= c.n)
        v.n = 0;
    return v;
}

/* 716xxx (WebVPN), 722xxx (AnyConnect SVC), 113039: the session's group,
 * user and public address; what happened, by id. */
static int m_vpn(struct decode_span text, int id, struct asa_result *res)
{
    struct decode_span ip;

    res->user = angle(text, LIT("User <"));
    res->group = angle(text, LIT("Group <"));
    if (!res->group.n)
        res->group = angle(text, LIT("GroupPolicy <"));
    ip = angle(text, LIT("IP <"));
    if (decode_util_is_ip(ip.p, ip.n))
        res->src.ip = ip;
    res->category = "session";
    switch (id) {
    case 716001:
    case 722022:
    case 722023:
    case 722033:
    case 722034:
    case 113039:
        res->action = "vpn-session-start";
        res->type = "start";
        res->outcome = "success";
        break;
    case 716002:
    case 722028:
    case 722037:
        res->action = "vpn-session-end";
        res->type = "end";
        break;
    case 716038:
        res->category = "authentication";
        res->action = "authentication";
        res->type = "start";
        res->outcome = "success";
        break;
    case 716039:
        res->category = "authentication";
        res->action = "authentication";
        res->type = "info";
        res->outcome = "failure";
        break;
    default:
        res->action = "vpn-session";
        res->type = "info";
        break;
    }
    return res->user.n || res->src.ip.n ? 0 : -1;
}

/* 113019 and the IKE messages (713xxx): "Group = G, Username = U, IP = A, ..." */
static void m_ike(struct decode_span text, int id, struct asa_result *res)
{
    struct decode_span ip = aaa_value(text, LIT("IP = "));

    res->group = aaa_value(text, LIT("Group = "));
    res->user = aaa_value(text, LIT("Username = "));
    if (decode_util_is_ip(ip.p, ip.n))
        res->src.ip = ip;
    if (id == 113019) {
        struct cur c = {text.p, text.n, 0};
        res->category = "session";
        res->action = "vpn-session-end";
        res->type = "end";
        if (past(&c, LIT("Reason: ")))
            res->reason = (struct decode_span){c.p + c.i, c.n - c.i};
    }
}

/* Reads the text of message `id`; -1 when it does not have that id's shape
 * (the header fields are kept all the same). */
static int read_message(int id, struct decode_span text, struct asa_result *res)
{
    struct cur c = {text.p, text.n, 0};

    switch (id) {
    case 106001:
    case 106006:
    case 106007:
    case 106012:
    case 106013:
    case 106015:
    case 106016:
    case 106017:
    case 106020:
    case 106021:
    case 106022:
    case 500003:
        if (id == 106013) { /* "Dropping echo request from A to PAT address B" */
            res->verb = (struct decode_span){"dropped", 7};
            deny(res);
            res->proto = (struct decode_span){"icmp", 4};
            res->icmp = 1;
            if (!past(&c, LIT(" from ")) || endpoint(&c, &res->src) < 0 ||
                !past(&c, LIT("address ")) || endpoint(&c, &res->dst) < 0)
                return -1;
            return 0;
        }
        if (id == 500003) {
            res->verb = (struct decode_span){"dropped", 7};
            deny(res);
            res->proto = (struct decode_span){"tcp", 3};
            if (!past(&c, LIT(" from ")) || endpoint(&c, &res->src) < 0 || !lit(&c, LIT("to")) ||
                endpoint(&c, &res->dst) < 0)
                return -1;
            on_interface(&c, res);
            return 0;
        }
        return m_from_to(&c, res);
    case 106002:
    case 106018: return m_denied_by_list(&c, res);
    case 106010:
    case 106014:
    case 106023: return m_src_dst(&c, res);
    case 106100: return m_access_list(&c, res);
    case 302013:
    case 302015:
    case 302017: return m_built(&c, text, res);
    case 302014:
    case 302016:
    case 302018: return m_teardown(&c, text, res);
    case 302020:
    case 302021: return m_icmp_conn(&c, text, res);
    case 305011:
    case 305012: return m_xlate(&c, res);
    case 313001:
    case 313004: return m_icmp_denied(&c, res);
    case 313005: return m_icmp_nomatch(&c, res);
    case 710001:
    case 710002:
    case 710003:
    case 710005: return m_to_box(&c, res);
    case 110002: return m_no_egress(&c, res);
    case 111008:
    case 111010: return m_command(&c, res);
    case 113004:
    case 113005:
    case 113008:
    case 113012:
    case 113015: return m_aaa(text, id, res);
    case 113009: res->user = aaa_value(text, LIT(" user = ")); return 0;
    case 611101:
    case 611102: return m_mgmt_auth(&c, id, res);
    case 113019: m_ike(text, id, res); return 0;
    default:
        if (id / 1000 == 716 || id / 1000 == 722 || id == 113039)
            return m_vpn(text, id, res);
        if (id / 1000 == 713)
            m_ike(text, id, res);
        return 0;
    }
}

/* A lowercase copy of s in the arena (ASA writes "TCP", "tcp", "Deny"). */
static int add_lower(struct event *ev, uint32_t id, const char *name, size_t name_n,
                     struct decode_span s)
{
    char *t;

    if (!s.n)
        return 0;
    if (!(t = arena_alloc(ev->arena, s.n)))
        return -ENOMEM;
    for (size_t k = 0; k < s.n; k++) {
        char ch = s.p[k];
        t[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    if (id != FIELD_NONE)
        return decode_util_add(ev, id, (struct decode_span){t, s.n});
    return asa_add_named(ev, name, name_n, (struct decode_span){t, s.n});
}

static int span_eq(struct decode_span a, struct decode_span b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* "DOMAIN\user": the user, and the domain into *ret_domain. */
static struct decode_span split_domain(struct decode_span u, struct decode_span *ret_domain)
{
    const char *bs = u.n ? memchr(u.p, '\\', u.n) : NULL;

    ret_domain->p = NULL;
    ret_domain->n = 0;
    if (!bs)
        return u;
    ret_domain->p = u.p;
    ret_domain->n = (size_t)(bs - u.p);
    return (struct decode_span){bs + 1, u.n - ret_domain->n - 1};
}

static int emit_ep(struct event *ev, const struct asa_ep *ep, int is_src, int ports)
{
    struct decode_span dom, u = split_domain(ep->user, &dom);
    int r;

    if ((r = decode_util_add(ev, is_src ? FIELD_SOURCE_IP : FIELD_DESTINATION_IP, ep->ip)) < 0)
        return r;
    if (ports && (r = decode_util_add(ev, is_src ? FIELD_SOURCE_PORT : FIELD_DESTINATION_PORT,
                                      ep->port)) < 0)
        return r;
    /* The translated side only when the translation changed something. */
    if (ep->nat_ip.n &&
        (!span_eq(ep->nat_ip, ep->ip) || (ports && !span_eq(ep->nat_port, ep->port)))) {
        struct decode_span nip = decode_util_cstr(is_src ? "source.nat.ip" : "destination.nat.ip");
        struct decode_span nport =
            decode_util_cstr(is_src ? "source.nat.port" : "destination.nat.port");

        if ((r = asa_add_named(ev, nip.p, nip.n, ep->nat_ip)) < 0 ||
            (ports && (r = asa_add_named(ev, nport.p, nport.n, ep->nat_port)) < 0))
            return r;
    }
    if (is_src) {
        if ((r = asa_add_named(ev, LIT("source.user.name"), u)) < 0 ||
            (r = asa_add_named(ev, LIT("source.user.domain"), dom)) < 0)
            return r;
    } else {
        if ((r = asa_add_named(ev, LIT("destination.user.name"), u)) < 0 ||
            (r = asa_add_named(ev, LIT("destination.user.domain"), dom)) < 0)
            return r;
    }
    return 0;
}

static int emit(struct event *ev, const struct asa_result *res)
{
    struct decode_span dom, u = split_domain(res->user, &dom);
    int ports =
        !res->icmp && !span_is(res->proto, LIT("icmp")) && !span_is(res->proto, LIT("icmp6"));
    int r;

    if (res->action) {
        if ((r = decode_util_add(ev, FIELD_EVENT_ACTION, decode_util_cstr(res->action))) < 0)
            return r;
    } else if ((r = add_lower(ev, FIELD_EVENT_ACTION, NULL, 0, res->verb)) < 0) {
        return r;
    }
    if ((res->category &&
         (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr(res->category))) < 0) ||
        (res->type &&
         (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr(res->type))) < 0) ||
        (res->outcome &&
         (r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr(res->outcome))) < 0) ||
        (res->direction &&
         (r = asa_add_named(ev, LIT("network.direction"), decode_util_cstr(res->direction))) < 0))
        return r;
    if (decode_util_all_digits(res->proto)) {
        if ((r = asa_add_named(ev, LIT("network.iana_number"), res->proto)) < 0)
            return r;
    } else if ((r = add_lower(ev, FIELD_NETWORK_TRANSPORT, NULL, 0, res->proto)) < 0) {
        return r;
    }
    if ((r = emit_ep(ev, &res->src, 1, ports)) < 0 || (r = emit_ep(ev, &res->dst, 0, ports)) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_INGRESS_INTERFACE, res->src.iface)) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_EGRESS_INTERFACE, res->dst.iface)) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME, u)) < 0 ||
        (r = asa_add_named(ev, LIT("user.domain"), dom)) < 0 ||
        (r = asa_add_named(ev, LIT("group.name"), res->group)) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, res->rule)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON, res->reason)) < 0 ||
        (r = asa_add_named(ev, LIT("cisco.asa.connection_id"), res->conn_id)) < 0 ||
        (r = asa_add_named(ev, LIT("network.bytes"), res->bytes)) < 0 ||
        (r = asa_add_named(ev, LIT("cisco.asa.command"), res->command)) < 0 ||
        (r = asa_add_named(ev, LIT("icmp.type"), res->icmp_type)) < 0 ||
        (r = asa_add_named(ev, LIT("icmp.code"), res->icmp_code)) < 0)
        return r;
    return 0;
}

/*
 * FTD's own events (430002 connection begin, 430003 connection end, 430004
 * file, 430005 file malware; 430001 intrusion) are not sentences but
 * "Key: value" pairs after the id, separated by ", ", in the order and with
 * the names of Cisco's "Cisco Secure Firewall Threat Defense Syslog
 * Messages" guide.  A value may itself hold ", " (a URL, a user agent):
 * it ends only at a ", " followed by something shaped like a key.
 */

/* The end of a key at p[i..n): letters, digits, '_' and inner spaces
 * ("Prefilter Policy"), at most 48 bytes, then ':'; the ':' offset or 0. */
static size_t ftd_key_end(const char *p, size_t n, size_t i)
{
    size_t k = i;

    if (k >= n || !((p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= 'a' && p[k] <= 'z')))
        return 0;
    while (k < n && k - i <= 48 &&
           ((p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= 'a' && p[k] <= 'z') ||
            (p[k] >= '0' && p[k] <= '9') || p[k] == '_' || (p[k] == ' ' && k > i)))
        k++;
    if (k >= n || p[k] != ':' || k - i > 48 || p[k - 1] == ' ')
        return 0;
    return k;
}

/* What an FTD event said, as views into the message. */
struct ftd_result {
    struct decode_span src_ip, dst_ip, src_port, dst_port, proto, action, rule, policy, user, url,
        in_if, out_if, src_bytes, dst_bytes, src_pkts, dst_pkts, app, file_name, file_sha256,
        file_size, file_action, threat, disposition, message;
};

#define FTD_KEY(name, member)                                                                      \
    {                                                                                              \
        name, sizeof(name) - 1, offsetof(struct ftd_result, member)                                \
    }

static const struct {
    const char *key;
    size_t n;
    size_t off; /* of the struct decode_span in struct ftd_result */
} ftd_keys[] = {
    FTD_KEY("SrcIP", src_ip),
    FTD_KEY("DstIP", dst_ip),
    FTD_KEY("SrcPort", src_port),
    FTD_KEY("DstPort", dst_port),
    FTD_KEY("Protocol", proto),
    FTD_KEY("AccessControlRuleAction", action),
    FTD_KEY("AccessControlRuleName", rule),
    FTD_KEY("ACPolicy", policy),
    FTD_KEY("User", user),
    FTD_KEY("URL", url),
    FTD_KEY("IngressInterface", in_if),
    FTD_KEY("EgressInterface", out_if),
    FTD_KEY("InitiatorBytes", src_bytes),
    FTD_KEY("ResponderBytes", dst_bytes),
    FTD_KEY("InitiatorPackets", src_pkts),
    FTD_KEY("ResponderPackets", dst_pkts),
    FTD_KEY("ApplicationProtocol", app),
    FTD_KEY("FileName", file_name),
    FTD_KEY("FileSHA256", file_sha256),
    FTD_KEY("SHA256", file_sha256),
    FTD_KEY("FileSize", file_size),
    FTD_KEY("FileAction", file_action),
    FTD_KEY("ThreatName", threat),
    FTD_KEY("Disposition", disposition),
    FTD_KEY("SHA_Disposition", disposition),
    FTD_KEY("Message", message),
};

static void ftd_read(struct decode_span text, struct ftd_result *res)
{
    const char *p = text.p;
    size_t n = text.n, i = 0, ke;

    while ((ke = ftd_key_end(p, n, i)) != 0) {
        size_t v = ke + 1, e;

        if (v < n && p[v] == ' ')
            v++;
        for (e = v; e < n; e++)
            if (p[e] == ',' && e + 1 < n && p[e + 1] == ' ' && ftd_key_end(p, n, e + 2))
                break;
        for (size_t k = 0; k < sizeof(ftd_keys) / sizeof(ftd_keys[0]); k++) {
            if (ke - i == ftd_keys[k].n && memcmp(p + i, ftd_keys[k].key, ftd_keys[k].n) == 0) {
                struct decode_span *dst = (struct decode_span *)((char *)res + ftd_keys[k].off);
                if (!dst->n) /* the first of a repeated key */
                    *dst = (struct decode_span){p + v, e - v};
                break;
            }
        }
        if (e >= n)
            break;
        i = e + 2;
    }
}

/* FTD writes these where no user was seen. */
static int ftd_no_user(struct decode_span u)
{
    return !u.n || decode_util_eq(u, "No Authentication Required") ||
           decode_util_eq(u, "Unknown") || decode_util_eq(u, "Not Found") ||
           decode_util_eq(u, "N/A");
}

static int ftd_event(struct event *ev, int id, struct decode_span text)
{
    struct ftd_result res;
    struct decode_span action, transport, dom = {NULL, 0}, user;
    const char *category = id == 430005   ? "malware"
                           : id >= 430004 ? "file"
                           : id == 430001 ? "intrusion_detection"
                                          : "network";
    const char *type = id == 430002 ? "start" : id == 430003 ? "end" : "info";
    int r, blocked, allowed;

    memset(&res, 0, sizeof(res));
    ftd_read(text, &res);
    /* A file event's own action ("Malware Block") before the access rule's. */
    action = id >= 430004 && res.file_action.n ? res.file_action : res.action;
    blocked = decode_util_ci_contains(action, "BLOCK") || decode_util_ci_contains(action, "RESET");
    allowed =
        !blocked && (decode_util_eq(res.action, "Allow") || decode_util_eq(res.action, "Trust"));
    transport = decode_util_iana_transport(res.proto);
    user = ftd_no_user(res.user) ? (struct decode_span){NULL, 0} : split_domain(res.user, &dom);
    if (!user.n)
        dom.n = 0;
    if ((r = add_lower(ev, FIELD_EVENT_ACTION, NULL, 0, action)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr(category))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr(type))) < 0 ||
        ((blocked || allowed) &&
         (r = decode_util_add(ev, FIELD_EVENT_TYPE,
                              decode_util_cstr(blocked ? "denied" : "allowed"))) < 0) ||
        ((blocked || allowed) &&
         (r = decode_util_add(ev, FIELD_EVENT_OUTCOME,
                              decode_util_cstr(blocked ? "failure" : "success"))) < 0) ||
        ((id == 430005 || id == 430001) &&
         (r = decode_util_add(ev, FIELD_EVENT_KIND, decode_util_cstr("alert"))) < 0))
        return r;
    if ((decode_util_is_ip(res.src_ip.p, res.src_ip.n) &&
         (r = decode_util_add(ev, FIELD_SOURCE_IP, res.src_ip)) < 0) ||
        (decode_util_is_ip(res.dst_ip.p, res.dst_ip.n) &&
         (r = decode_util_add(ev, FIELD_DESTINATION_IP, res.dst_ip)) < 0) ||
        (decode_util_is_port(res.src_port.p, res.src_port.n) &&
         (r = decode_util_add(ev, FIELD_SOURCE_PORT, res.src_port)) < 0) ||
        (decode_util_is_port(res.dst_port.p, res.dst_port.n) &&
         (r = decode_util_add(ev, FIELD_DESTINATION_PORT, res.dst_port)) < 0) ||
        (r = add_lower(ev, FIELD_NETWORK_TRANSPORT, NULL, 0, transport)) < 0 ||
        (r = add_lower(ev, FIELD_NETWORK_PROTOCOL, NULL, 0, res.app)) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, res.rule.n ? res.rule : res.threat)) < 0 ||
        (r = asa_add_named(ev, LIT("rule.ruleset"), res.policy)) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME, user)) < 0 ||
        (r = asa_add_named(ev, LIT("user.domain"), dom)) < 0 ||
        (r = decode_util_add(ev, FIELD_URL_ORIGINAL, res.url)) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_INGRESS_INTERFACE, res.in_if)) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_EGRESS_INTERFACE, res.out_if)) < 0)
        return r;
    if ((decode_util_all_digits(res.src_bytes) &&
         (r = decode_util_add(ev, FIELD_SOURCE_BYTES, res.src_bytes)) < 0) ||
        (decode_util_all_digits(res.dst_bytes) &&
         (r = decode_util_add(ev, FIELD_DESTINATION_BYTES, res.dst_bytes)) < 0) ||
        (decode_util_all_digits(res.src_pkts) &&
         (r = asa_add_named(ev, LIT("source.packets"), res.src_pkts)) < 0) ||
        (decode_util_all_digits(res.dst_pkts) &&
         (r = asa_add_named(ev, LIT("destination.packets"), res.dst_pkts)) < 0) ||
        (r = asa_add_named(ev, LIT("file.name"), res.file_name)) < 0 ||
        (res.file_sha256.n == 64 &&
         (r = asa_add_named(ev, LIT("file.hash.sha256"), res.file_sha256)) < 0) ||
        (decode_util_all_digits(res.file_size) &&
         (r = asa_add_named(ev, LIT("file.size"), res.file_size)) < 0) ||
        (r = asa_add_named(ev, LIT("threat.software.name"), res.threat)) < 0 ||
        (r = asa_add_named(ev, LIT("cisco.ftd.disposition"), res.disposition)) < 0 ||
        (r = decode_util_add(ev, FIELD_MESSAGE, res.message)) < 0)
        return r;
    return 0;
}

/* The marker "%ASA-" or "%FTD-" within the first bytes; its offset or -1. */
static long find_marker(const char *p, size_t len)
{
    size_t scan = len < DECODE_CISCO_ASA_SCAN ? len : DECODE_CISCO_ASA_SCAN;

    for (size_t i = 0; i + 5 <= scan; i++)
        if (p[i] == '%' && (memcmp(p + i + 1, "ASA-", 4) == 0 || memcmp(p + i + 1, "FTD-", 4) == 0))
            return (long)i;
    return -1;
}

int decode_cisco_asa(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr)
{
    struct asa_result res;
    struct decode_span product, sev, idspan, text;
    size_t i, k;
    long at;
    int id = 0, r, ftd;

    if ((at = find_marker(p, len)) < 0)
        return -ENOENT;
    i = (size_t)at + 1;
    ftd = p[i] == 'F';
    product.p = p + i;
    product.n = 3;
    i += 4;
    /* "<severity>-<id>:" */
    if (i + 2 >= len || p[i] < '0' || p[i] > '7' || p[i + 1] != '-') {
        parse_err_set(reterr, i, "no severity digit after the %ASA- marker");
        return -EINVAL;
    }
    sev.p = p + i;
    sev.n = 1;
    i += 2;
    for (k = i; k < len && k - i < 6 && p[k] >= '0' && p[k] <= '9'; k++)
        id = id * 10 + (p[k] - '0');
    if (k - i != 6 || k >= len || p[k] != ':') {
        parse_err_set(reterr, i, "no six-digit message id and ':' after the severity");
        return -EINVAL;
    }
    idspan.p = p + i;
    idspan.n = 6;
    i = k + 1;
    while (i < len && p[i] == ' ')
        i++;
    text.p = p + i;
    text.n = len - i;
    while (text.n && (text.p[text.n - 1] == ' ' || text.p[text.n - 1] == '\r'))
        text.n--;

    /* "Aug 06 2016 20:39:42: %ASA-...": the device's own time (logging
     * timestamp), which the syslog header reader left in the message. */
    if (at >= 15) {
        int64_t us;
        size_t tn = 0;
        if (time_parse_rfc3164(p, (size_t)at, ctx ? ctx->ref_us : 0, ctx ? ctx->prev_us : 0,
                               ctx ? ctx->tz : NULL, &us, &tn) == 0 &&
            tn > 0 && (r = event_set_time(ev, us, p, tn)) < 0)
            return r;
    }
    memset(&res, 0, sizeof(res));
    if (id >= 430001 && id <= 430005) {
        /* FTD's key: value events, read and emitted on their own */
    } else if (read_message(id, text, &res) < 0)
        memset(&res, 0, sizeof(res)); /* not its id's shape: header fields only */
    if ((r = decode_util_add(ev, FIELD_OBSERVER_VENDOR, decode_util_cstr("Cisco"))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, product)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET,
                             decode_util_cstr(ftd ? "cisco.ftd" : "cisco.asa"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CODE, idspan)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_SEVERITY, sev)) < 0)
        return r;
    if (id >= 430001 && id <= 430005 ? (r = ftd_event(ev, id, text)) < 0 : (r = emit(ev, &res)) < 0)
        return r;
    ev->decoder = "cisco-asa";
    return 0;
}
