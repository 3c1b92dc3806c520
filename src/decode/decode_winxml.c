/*
 * decode_winxml.c - Windows event XML to fields.
 *
 * A small, strict XML reader for one shape of document, in one pass: no
 * tree is built.  A stack of open elements (capped at DECODE_WINXML_DEPTH)
 * remembers, for each, its name, the section of the event it sits in, the
 * Data Name attribute, where its content starts and whether it has child
 * elements.  A leaf becomes a field when its end tag is read; its text is a
 * view into the record unless it holds a reference, CDATA, a comment or a
 * processing instruction, and only then is it rewritten into the arena.
 * Every scan is bounded by the record's length; nothing needs a NUL.
 */
#include "decode/decode_winxml.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "event/event.h"
#include "event/time.h"
#include "util/arena.h"

/* Where an element sits: decides what its leaves and attributes mean. */
enum wx_section {
    WX_SEC_NONE,   /* the Event element itself */
    WX_SEC_SYSTEM, /* <System> */
    WX_SEC_DATA,   /* <EventData>, <UserData> and other payload sections */
    WX_SEC_RENDER, /* <RenderingInfo> (forwarded events) */
};

struct wx_elem {
    const char *qname;     /* name as written, for matching the end tag */
    size_t qname_len;
    const char *name;      /* local name: qname without its prefix */
    size_t name_len;
    const char *data_name; /* <Data Name="X">: X, decoded; NULL otherwise */
    size_t data_name_len;
    size_t content;        /* offset just past the start tag's '>' */
    enum wx_section sec;
    int has_child;         /* a child element was seen: not a leaf */
    int needs_decode;      /* content holds a reference, CDATA, comment or PI */
};

struct wx {
    const char *p;
    size_t len;
    size_t i; /* next byte to read, always <= len */
    struct event *ev;
    const struct decode_ctx *ctx;
    struct parse_err *reterr;
    int depth; /* open elements: stack[0 .. depth-1] */
    struct wx_elem stack[DECODE_WINXML_DEPTH];
};

static int fail(struct wx *w, size_t off, const char *msg)
{
    parse_err_set(w->reterr, off, msg);
    return -EINVAL;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_name_start(char c)
{
    unsigned char u = (unsigned char)c;

    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == ':' || u >= 0x80;
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int eq(const char *a, size_t alen, const char *s)
{
    size_t n = strlen(s);

    return alen == n && memcmp(a, s, n) == 0;
}

static int starts(const struct wx *w, size_t at, const char *s)
{
    size_t n = strlen(s);

    return at <= w->len && w->len - at >= n && memcmp(w->p + at, s, n) == 0;
}

/* Offset of `s` at or after `from`, or len when absent. */
static size_t find(const struct wx *w, size_t from, const char *s)
{
    const char *hit;
    size_t n = strlen(s);

    if (from >= w->len)
        return w->len;
    hit = memmem(w->p + from, w->len - from, s, n);
    return hit ? (size_t)(hit - w->p) : w->len;
}

static void skip_ws(struct wx *w)
{
    while (w->i < w->len && is_ws(w->p[w->i]))
        w->i++;
}

/*
 * Reads the reference at p[at] == '&' ending before `end`: a predefined
 * entity or a numeric character reference.  Gives the character's UTF-8
 * bytes in out[] (*ret_n of them) and the offset after the ';' in *ret_next.
 */
static int read_ref(struct wx *w, size_t at, size_t end, char out[4], size_t *ret_n,
                    size_t *ret_next)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    size_t j = at + 1, semi;
    uint32_t cp = 0;

    /* The longest reference is "&#x10FFFF;" (or leading zeros: capped). */
    for (semi = j; semi < end && semi - j < 12 && w->p[semi] != ';'; semi++)
        ;
    if (semi >= end || w->p[semi] != ';')
        return fail(w, at, "unterminated or overlong reference");
    *ret_next = semi + 1;
    if (j < semi && w->p[j] == '#') {
        int hex = j + 1 < semi && w->p[j + 1] == 'x';
        size_t k = j + 1 + (size_t)hex;

        if (k == semi)
            return fail(w, at, "empty character reference");
        for (; k < semi; k++) {
            char c = w->p[k];
            uint32_t d;

            if (c >= '0' && c <= '9')
                d = (uint32_t)(c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                d = (uint32_t)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                d = (uint32_t)(c - 'A' + 10);
            else
                return fail(w, k, "bad digit in character reference");
            cp = cp * (hex ? 16 : 10) + d;
            if (cp > 0x10FFFF)
                return fail(w, at, "character reference out of range");
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(w, at, "character reference to a forbidden code point");
        if (cp < 0x80) {
            out[0] = (char)cp;
            *ret_n = 1;
        } else if (cp < 0x800) {
            out[0] = (char)(0xC0 | (cp >> 6));
            out[1] = (char)(0x80 | (cp & 0x3F));
            *ret_n = 2;
        } else if (cp < 0x10000) {
            out[0] = (char)(0xE0 | (cp >> 12));
            out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[2] = (char)(0x80 | (cp & 0x3F));
            *ret_n = 3;
        } else {
            out[0] = (char)(0xF0 | (cp >> 18));
            out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[3] = (char)(0x80 | (cp & 0x3F));
            *ret_n = 4;
        }
        return 0;
    }
    for (size_t e = 0; e < sizeof(ents) / sizeof(ents[0]); e++)
        if (eq(w->p + j, semi - j, ents[e].name)) {
            out[0] = ents[e].c;
            *ret_n = 1;
            return 0;
        }
    return fail(w, at, "unknown entity");
}

/* Checks the references of text or an attribute value in [from, end);
 * sets *ret_refs when there is one. */
static int check_refs(struct wx *w, size_t from, size_t end, int *ret_refs)
{
    char tmp[4];
    size_t n, next;
    int r;

    for (size_t k = from; k < end; k++) {
        if (w->p[k] != '&')
            continue;
        if ((r = read_ref(w, k, end, tmp, &n, &next)) < 0)
            return r;
        *ret_refs = 1;
        k = next - 1;
    }
    return 0;
}

/*
 * The value of [from, end): a view when `decode` is 0, else rewritten into
 * the arena with references decoded, CDATA unwrapped, comments and PIs
 * dropped.  Decoding never grows the text, so `end - from` bytes suffice.
 */
static int value(struct wx *w, size_t from, size_t end, int decode, const char **ret_v,
                 size_t *ret_n)
{
    char *out;
    size_t o = 0, k = from;
    int r;

    if (!decode) {
        *ret_v = w->p + from;
        *ret_n = end - from;
        return 0;
    }
    out = arena_alloc(w->ev->arena, end - from + 1);
    if (!out)
        return -ENOMEM;
    while (k < end) {
        if (w->p[k] == '&') {
            size_t n, next;
            if ((r = read_ref(w, k, end, out + o, &n, &next)) < 0)
                return r;
            o += n;
            k = next;
        } else if (starts(w, k, "<![CDATA[")) {
            size_t stop = find(w, k + 9, "]]>");
            if (stop > end)
                stop = end;
            memcpy(out + o, w->p + k + 9, stop - (k + 9));
            o += stop - (k + 9);
            k = stop + 3;
        } else if (starts(w, k, "<!--")) {
            k = find(w, k + 4, "-->") + 3;
        } else if (starts(w, k, "<?")) {
            k = find(w, k + 2, "?>") + 2;
        } else {
            out[o++] = w->p[k++];
        }
    }
    *ret_v = out;
    *ret_n = o;
    return 0;
}

/* Adds a field by name; a field the caps refuse is dropped and counted by
 * event_add, and only running out of memory fails the record. */
static int add(struct wx *w, const char *name, size_t name_len, const char *v, size_t n)
{
    int r = event_add_named(w->ev, name, name_len, v, n);

    return r == -ENOMEM ? r : 0;
}

static int add_id(struct wx *w, uint32_t id, const char *v, size_t n)
{
    int r = event_add(w->ev, id, v, n);

    return r == -ENOMEM ? r : 0;
}

static int add_str(struct wx *w, const char *name, const char *v, size_t n)
{
    return add(w, name, strlen(name), v, n);
}

/* An attribute of a System child: Provider, TimeCreated, Execution,
 * Security carry their data in attributes. */
static int system_attr(struct wx *w, const struct wx_elem *e, const char *an, size_t alen,
                       const char *v, size_t n)
{
    int r;

    if (eq(e->name, e->name_len, "Provider")) {
        if (eq(an, alen, "Name")) {
            if ((r = add_str(w, "Provider_Name", v, n)) < 0)
                return r;
            return add_str(w, "winlog.provider_name", v, n);
        }
        if (eq(an, alen, "Guid"))
            return add_str(w, "Provider_Guid", v, n);
        if (eq(an, alen, "EventSourceName"))
            return add_str(w, "Provider_EventSourceName", v, n);
    } else if (eq(e->name, e->name_len, "TimeCreated") && eq(an, alen, "SystemTime")) {
        int64_t us;
        size_t used;

        /* A time that does not parse leaves the receive time: the record
         * is still worth its other fields. */
        if (time_parse_iso8601(v, n, w->ctx ? w->ctx->tz : NULL, &us, &used) == 0 &&
            used == n) {
            r = event_set_time(w->ev, us, v, n);
            return r == -ENOMEM ? r : 0;
        }
    } else if (eq(e->name, e->name_len, "Execution")) {
        if (eq(an, alen, "ProcessID") || eq(an, alen, "ThreadID"))
            return add(w, an, alen, v, n);
    } else if (eq(e->name, e->name_len, "Security") && eq(an, alen, "UserID")) {
        return add_str(w, "SecurityUserID", v, n);
    }
    return 0;
}

/* The ECS names decode_json gives the same Windows fields. */
static int add_aliases(struct wx *w, enum wx_section sec, const char *name, size_t name_len,
                       const char *v, size_t n)
{
    if (sec == WX_SEC_SYSTEM) {
        if (eq(name, name_len, "EventID"))
            return add_id(w, FIELD_EVENT_CODE, v, n);
        if (eq(name, name_len, "Computer"))
            return add_id(w, FIELD_HOST_NAME, v, n);
        if (eq(name, name_len, "Channel"))
            return add_str(w, "winlog.channel", v, n);
        return 0;
    }
    if (eq(name, name_len, "CommandLine"))
        return add_id(w, FIELD_PROCESS_COMMAND_LINE, v, n);
    if (eq(name, name_len, "Image"))
        return add_str(w, "process.executable", v, n);
    if (eq(name, name_len, "TargetUserName"))
        return add_id(w, FIELD_USER_NAME, v, n);
    return 0;
}

/* The element on top of the stack ends; its content is [e->content, end). */
static int end_elem(struct wx *w, const struct wx_elem *e, size_t end)
{
    const char *v, *name;
    size_t n, name_len;
    int r;

    /* Leaves of sections only: depth 3 and deeper (Event, section, leaf). */
    if (e->has_child || w->depth < 3)
        return 0;
    switch (e->sec) {
    case WX_SEC_SYSTEM:
        /* <Provider .../>, <Correlation/>: attributes only, no value. */
        if (w->depth != 3 || end == e->content)
            return 0;
        name = e->name;
        name_len = e->name_len;
        break;
    case WX_SEC_DATA:
        name = e->data_name ? e->data_name : e->name;
        name_len = e->data_name ? e->data_name_len : e->name_len;
        break;
    case WX_SEC_RENDER:
        if (!eq(e->name, e->name_len, "Message"))
            return 0;
        if ((r = value(w, e->content, end, e->needs_decode, &v, &n)) < 0)
            return r;
        return add_id(w, FIELD_MESSAGE, v, n);
    default:
        return 0;
    }
    if ((r = value(w, e->content, end, e->needs_decode, &v, &n)) < 0)
        return r;
    if ((r = add(w, name, name_len, v, n)) < 0)
        return r;
    return add_aliases(w, e->sec, name, name_len, v, n);
}

/*
 * Reads a name at w->i into *ret_name; fails when there is none.  Element
 * names (`any` set) are taken as libevtx writes them: for some templates it
 * renders names as stray UTF-16 bytes or as nothing at all ("< Name="X">v</>"),
 * about one record in fifteen of the EVTX-ATTACK-SAMPLES.  Those elements
 * still carry their Name attribute and value, so an element name is any run,
 * even empty, of bytes that are not white space or markup.
 */
static int read_name(struct wx *w, int any, const char **ret_name, size_t *ret_len)
{
    size_t start = w->i;

    if (any) {
        while (w->i < w->len && !is_ws(w->p[w->i]) && !strchr("<>/=\"'&", w->p[w->i]))
            w->i++;
        *ret_name = w->p + start;
        *ret_len = w->i - start;
        return 0;
    }
    if (w->i >= w->len || !is_name_start(w->p[w->i]))
        return fail(w, w->i, "expected a name");
    while (w->i < w->len && is_name_char(w->p[w->i]))
        w->i++;
    *ret_name = w->p + start;
    *ret_len = w->i - start;
    return 0;
}

/* The attributes of a start tag, up to and including its '>' or "/>";
 * *ret_empty is set for "/>". */
static int read_attrs(struct wx *w, struct wx_elem *e, int *ret_empty)
{
    int r;

    for (;;) {
        const char *an, *v;
        size_t alen, vstart, vend, n, before = w->i;
        int refs = 0;
        char q;

        skip_ws(w);
        if (w->i >= w->len)
            return fail(w, w->i, "unclosed start tag");
        if (w->p[w->i] == '>') {
            w->i++;
            *ret_empty = 0;
            return 0;
        }
        if (w->p[w->i] == '/') {
            if (w->i + 1 >= w->len || w->p[w->i + 1] != '>')
                return fail(w, w->i, "expected '>' after '/'");
            w->i += 2;
            *ret_empty = 1;
            return 0;
        }
        if (w->i == before)
            return fail(w, w->i, "expected white space before an attribute");
        if ((r = read_name(w, 0, &an, &alen)) < 0)
            return r;
        skip_ws(w);
        if (w->i >= w->len || w->p[w->i] != '=')
            return fail(w, w->i, "expected '=' after an attribute name");
        w->i++;
        skip_ws(w);
        if (w->i >= w->len || (w->p[w->i] != '"' && w->p[w->i] != '\''))
            return fail(w, w->i, "attribute value without quotes");
        q = w->p[w->i++];
        vstart = w->i;
        while (w->i < w->len && w->p[w->i] != q) {
            if (w->p[w->i] == '<')
                return fail(w, w->i, "'<' in an attribute value");
            w->i++;
        }
        if (w->i >= w->len)
            return fail(w, vstart - 1, "unterminated attribute value");
        vend = w->i++;
        if ((r = check_refs(w, vstart, vend, &refs)) < 0)
            return r;
        if (e->sec == WX_SEC_SYSTEM && w->depth == 3) {
            if ((r = value(w, vstart, vend, refs, &v, &n)) < 0)
                return r;
            if ((r = system_attr(w, e, an, alen, v, n)) < 0)
                return r;
        } else if (e->sec == WX_SEC_DATA && eq(an, alen, "Name")) {
            /* <Data Name="X">, and the nameless elements above. */
            if ((r = value(w, vstart, vend, refs, &v, &n)) < 0)
                return r;
            e->data_name = v;
            e->data_name_len = n;
        }
    }
}

static int start_tag(struct wx *w)
{
    struct wx_elem *e, *parent = w->depth ? &w->stack[w->depth - 1] : NULL;
    size_t tag = w->i;
    int empty, r;

    if (w->depth >= DECODE_WINXML_DEPTH)
        return fail(w, tag, "elements nested too deep");
    w->i++;
    e = &w->stack[w->depth];
    memset(e, 0, sizeof(*e));
    if ((r = read_name(w, 1, &e->qname, &e->qname_len)) < 0)
        return r;
    e->name = e->qname;
    e->name_len = e->qname_len;
    for (size_t k = e->qname_len; k > 0; k--)
        if (e->qname[k - 1] == ':') {
            e->name = e->qname + k;
            e->name_len = e->qname_len - k;
            break;
        }
    if (parent) {
        parent->has_child = 1;
        e->sec = parent->sec;
        if (w->depth == 1) {
            if (eq(e->name, e->name_len, "System"))
                e->sec = WX_SEC_SYSTEM;
            else if (eq(e->name, e->name_len, "RenderingInfo"))
                e->sec = WX_SEC_RENDER;
            else
                e->sec = WX_SEC_DATA;
        }
    }
    w->depth++;
    if ((r = read_attrs(w, e, &empty)) < 0)
        return r;
    e->content = w->i;
    if (!empty)
        return 0;
    r = end_elem(w, e, w->i);
    w->depth--;
    return r;
}

static int end_tag(struct wx *w)
{
    struct wx_elem *e;
    size_t tag = w->i;
    const char *name;
    size_t len;
    int r;

    w->i += 2;
    if ((r = read_name(w, 1, &name, &len)) < 0)
        return r;
    if (w->depth == 0)
        return fail(w, tag, "end tag without a start tag");
    e = &w->stack[w->depth - 1];
    if (len != e->qname_len || memcmp(name, e->qname, len) != 0)
        return fail(w, tag, "end tag does not match the open element");
    skip_ws(w);
    if (w->i >= w->len || w->p[w->i] != '>')
        return fail(w, w->i, "expected '>' to close the end tag");
    w->i++;
    r = end_elem(w, e, tag);
    w->depth--;
    return r;
}

/* Skips a comment, PI or CDATA section starting at w->i (which `open`
 * matches) up to its `close`; marks an open leaf as needing decoding. */
static int skip_section(struct wx *w, size_t open_len, const char *close, const char *what)
{
    size_t stop = find(w, w->i + open_len, close);

    if (stop >= w->len)
        return fail(w, w->i, what);
    if (w->depth)
        w->stack[w->depth - 1].needs_decode = 1;
    w->i = stop + strlen(close);
    return 0;
}

/* Skips the byte order mark, white space, the XML declaration, comments and
 * PIs before the root; then the root must be <Event>. */
static int prolog(struct wx *w)
{
    if (starts(w, 0, "\xEF\xBB\xBF"))
        w->i = 3;
    for (;;) {
        size_t stop;

        skip_ws(w);
        if (starts(w, w->i, "<?"))
            stop = find(w, w->i + 2, "?>") + 2;
        else if (starts(w, w->i, "<!--"))
            stop = find(w, w->i + 4, "-->") + 3;
        else
            break;
        if (stop > w->len)
            return -ENOENT;
        w->i = stop;
    }
    if (!starts(w, w->i, "<Event") || w->i + 6 >= w->len ||
        (!is_ws(w->p[w->i + 6]) && w->p[w->i + 6] != '>' && w->p[w->i + 6] != '/'))
        return -ENOENT;
    return 0;
}

int decode_winxml(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr)
{
    struct wx w;
    int r, root_done = 0;

    w.p = p;
    w.len = len;
    w.i = 0;
    w.ev = ev;
    w.ctx = ctx;
    w.reterr = reterr;
    w.depth = 0;
    if ((r = prolog(&w)) < 0)
        return r;
    while (w.i < len) {
        char c = p[w.i];

        if (c != '<') {
            size_t from = w.i, stop = find(&w, w.i, "<");
            int refs = 0;

            if (!w.depth) {
                while (w.i < stop && is_ws(p[w.i]))
                    w.i++;
                if (w.i < stop)
                    return fail(&w, w.i, "text outside the root element");
                continue;
            }
            if ((r = check_refs(&w, from, stop, &refs)) < 0)
                return r;
            if (refs)
                w.stack[w.depth - 1].needs_decode = 1;
            w.i = stop;
            continue;
        }
        if (starts(&w, w.i, "<!--"))
            r = skip_section(&w, 4, "-->", "unclosed comment");
        else if (starts(&w, w.i, "<?"))
            r = skip_section(&w, 2, "?>", "unclosed processing instruction");
        else if (starts(&w, w.i, "<![CDATA[")) {
            if (!w.depth)
                return fail(&w, w.i, "CDATA outside the root element");
            r = skip_section(&w, 9, "]]>", "unclosed CDATA section");
        } else if (starts(&w, w.i, "<!"))
            return fail(&w, w.i, "DOCTYPE and declarations are not supported");
        else if (starts(&w, w.i, "</")) {
            r = end_tag(&w);
            if (r == 0 && w.depth == 0)
                root_done = 1;
        } else {
            if (root_done)
                return fail(&w, w.i, "element after the root element");
            r = start_tag(&w);
            if (r == 0 && w.depth == 0)
                root_done = 1;
        }
        if (r < 0)
            return r;
    }
    if (w.depth || !root_done)
        return fail(&w, len, "unclosed element");
    ev->decoder = "winxml";
    return 0;
}
