/*
 * decode_ftp.c - vsftpd and ProFTPD login messages (see decode_ftp.h).
 *
 * Every value is a view into the message; nothing is copied.
 */
#include "decode/decode_ftp.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_svc.h"
#include "decode/decode_text.h"
#include "event/event.h"

static int emit(struct event *ev, const struct decode_svc *svc, const char *decoder)
{
    int r = decode_svc_emit(ev, svc);

    if (r == 0)
        ev->decoder = decoder;
    return r;
}

/* "::ffff:a.b.c.d" is the IPv4 client a.b.c.d on a dual-stack socket. */
static struct decode_span unmap(struct decode_span ip)
{
    struct decode_span v4 = text_skip(ip, 7);

    if (text_starts(ip, TEXT_LIT("::ffff:")) && decode_util_is_ip(v4.p, v4.n) &&
        !memchr(v4.p, ':', v4.n))
        return v4;
    return ip;
}

int decode_vsftpd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr)
{
    struct decode_span m = {p, len}, rest;
    struct decode_svc svc;

    (void)ctx;
    (void)reterr;
    /* vsftpd.log: "Mon Jan  8 10:00:00 2024 [pid 1234] " */
    if ((rest = text_after(m, TEXT_LIT(" [pid "))).p && rest.p - m.p <= 32) {
        struct decode_span pid = text_upto(rest, "]");
        if (pid.n < rest.n)
            m = text_skip(rest, pid.n + 1);
        while (m.n && m.p[0] == ' ')
            m = text_skip(m, 1);
    }
    memset(&svc, 0, sizeof(svc));
    svc.module = "vsftpd";
    svc.dataset = "vsftpd.log";
    if (m.n && m.p[0] == '[') {
        svc.user = text_upto(text_skip(m, 1), "]");
        m = text_skip(m, svc.user.n + 2);
        while (m.n && m.p[0] == ' ')
            m = text_skip(m, 1);
    }
    if (text_starts(m, TEXT_LIT("FAIL LOGIN: Client \""))) {
        svc.action = "auth_failure";
        svc.category = "authentication";
        svc.outcome = "failure";
    } else if (text_starts(m, TEXT_LIT("OK LOGIN: Client \""))) {
        svc.action = "login";
        svc.category = "authentication";
        svc.outcome = "success";
    } else if (text_starts(m, TEXT_LIT("CONNECT: Client \""))) {
        svc.action = "connection";
        svc.category = "network";
        svc.type = "start";
    } else {
        return -ENOENT;
    }
    svc.source_ip = unmap(text_between(m, TEXT_LIT("Client \""), '"'));
    if (!svc.source_ip.p)
        return -ENOENT;
    return emit(ev, &svc, "vsftpd");
}

int decode_proftpd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr)
{
    struct decode_span m = {p, len}, who, rest, v;
    struct decode_svc svc;
    long f;

    (void)ctx;
    (void)reterr;
    /* "HOST (RHOST[IP]) - TEXT" */
    if ((f = text_find(m, TEXT_LIT(") - "))) < 0 || f > 512)
        return -ENOENT;
    who = text_after((struct decode_span){m.p, (size_t)f}, TEXT_LIT(" ("));
    rest = text_skip(m, (size_t)f + 4);
    memset(&svc, 0, sizeof(svc));
    svc.module = "proftpd";
    svc.dataset = "proftpd.log";
    if (who.p) {
        struct decode_span rhost = text_upto(who, "[");
        if (rhost.n < who.n) {
            svc.source_ip = unmap(text_upto(text_skip(who, rhost.n + 1), "]"));
            if (!(rhost.n == svc.source_ip.n && memcmp(rhost.p, svc.source_ip.p, rhost.n) == 0))
                svc.source_domain = rhost;
        }
    }
    if (text_starts(rest, TEXT_LIT("USER "))) {
        v = text_skip(rest, 5);
        svc.user = text_upto(v, ": ");
        /* "USER u (Login failed): ..." */
        if ((f = text_find(svc.user, TEXT_LIT(" (Login failed)"))) >= 0)
            svc.user.n = (size_t)f;
        v = text_skip(v, svc.user.n);
        if (text_starts(v, TEXT_LIT(" (Login failed): ")) ||
            text_starts(v, TEXT_LIT(": no such user"))) {
            svc.action = "auth_failure";
            svc.category = "authentication";
            svc.outcome = "failure";
            svc.reason = text_starts(v, TEXT_LIT(" (")) ? text_skip(v, 17) : text_skip(v, 2);
            svc.reason = text_before(svc.reason, TEXT_LIT(" from "));
        } else if (text_starts(v, TEXT_LIT(": Login successful"))) {
            svc.action = "login";
            svc.category = "authentication";
            svc.outcome = "success";
        } else {
            return -ENOENT;
        }
    } else if (text_starts(rest, TEXT_LIT("Maximum login attempts ("))) {
        svc.action = "auth_failure";
        svc.category = "authentication";
        svc.outcome = "failure";
        svc.reason = rest;
    } else {
        return -ENOENT;
    }
    if (!svc.user.n && svc.user.p)
        svc.user.p = NULL;
    return emit(ev, &svc, "proftpd");
}
