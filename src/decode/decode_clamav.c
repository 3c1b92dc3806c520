/*
 * decode_clamav.c - ClamAV detection lines (see decode_clamav.h).
 *
 * Every value is a view into the message; nothing is copied.
 */
#include "decode/decode_clamav.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_text.h"
#include "event/event.h"

static int is_hex(struct decode_span s)
{
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return s.n > 0;
}

static int emit_common(struct event *ev, struct decode_span sig)
{
    int r;

    if ((r = decode_util_add(ev, FIELD_EVENT_KIND, decode_util_cstr("alert"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_MODULE, decode_util_cstr("clamav"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("clamav.log"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("malware"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr("info"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, decode_util_cstr("malware_detected"))) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("clamav.signature"), sig)) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, sig)) < 0)
        return r;
    ev->decoder = "clamav";
    return 0;
}

/* "Message ID from <a> to <b> with subject 'S' message-id '<m>' date 'D'
 * infected by SIG" */
static int milter(struct event *ev, struct decode_span m)
{
    struct decode_span sig = text_after(m, TEXT_LIT(" infected by "));
    struct decode_span from, to, subj;
    int r;

    if (!sig.p || !sig.n)
        return -ENOENT;
    sig = text_trim(sig);
    from = text_between(m, TEXT_LIT(" from <"), '>');
    to = text_between(m, TEXT_LIT(" to <"), '>');
    subj = text_between(m, TEXT_LIT(" with subject '"), '\'');
    if ((r = emit_common(ev, sig)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("email.from.address"), from)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("email.to.address"), to)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("email.subject"), subj)) < 0)
        return r;
    return 0;
}

int decode_clamav(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr)
{
    struct decode_span m = {p, len}, path, sig, ext = {NULL, 0}, md5 = {NULL, 0}, size = {NULL, 0},
                       src = {NULL, 0};
    const char *sep = NULL;
    int r;

    (void)ctx;
    (void)reterr;
    /* clamd.log's "Mon Jan  1 10:00:00 2024 -> " (LogTime yes) */
    if (m.n > 28 && m.p[3] == ' ' && m.p[7] == ' ') {
        struct decode_span rest = text_after(m, TEXT_LIT(" -> "));
        if (rest.p && rest.p - m.p <= 32)
            m = rest;
    }
    if (text_starts(m, TEXT_LIT("Message ")))
        return milter(ev, m);
    while (m.n && (m.p[m.n - 1] == ' ' || m.p[m.n - 1] == '\r'))
        m.n--;
    if (m.n < 8 || memcmp(m.p + m.n - 6, " FOUND", 6) != 0)
        return -ENOENT;
    m.n -= 6;
    /* the last ": " before the signature: a path may hold ": " */
    for (size_t i = m.n; i >= 2; i--)
        if (m.p[i - 2] == ':' && m.p[i - 1] == ' ') {
            sep = m.p + i - 2;
            break;
        }
    if (!sep || sep == m.p)
        return -ENOENT;
    path = (struct decode_span){m.p, (size_t)(sep - m.p)};
    sig = text_skip(m, path.n + 2);
    /* ExtendedDetectionInfo: "SIG(md5:size)" */
    if (sig.n > 2 && sig.p[sig.n - 1] == ')') {
        const char *open = memrchr(sig.p, '(', sig.n);
        if (open && open > sig.p) {
            ext = (struct decode_span){open + 1, (size_t)(sig.p + sig.n - 1 - open - 1)};
            md5 = text_upto(ext, ":");
            if (md5.n < ext.n)
                size = text_skip(ext, md5.n + 1);
            if (md5.n == 32 && is_hex(md5)) {
                sig.n = (size_t)(open - sig.p);
            } else {
                md5 = size = (struct decode_span){NULL, 0};
            }
        }
    }
    if (!sig.n || memchr(sig.p, ' ', sig.n))
        return -ENOENT;
    if (text_starts(path, TEXT_LIT("instream(")) || text_starts(path, TEXT_LIT("fd["))) {
        src = text_ip(text_upto(text_skip(path, 9), "@)"));
        if (!text_starts(path, TEXT_LIT("instream(")))
            src = (struct decode_span){NULL, 0};
        path = (struct decode_span){NULL, 0};
    }
    if ((r = emit_common(ev, sig)) < 0 || (r = decode_util_add(ev, FIELD_FILE_PATH, path)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("file.hash.md5"), md5)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("file.size"), size)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, src)) < 0)
        return r;
    return 0;
}
