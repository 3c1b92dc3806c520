/*
 * scan_details.c - the details column of `hikeshi scan` from per-event-kind
 * field profiles, and ATT&CK names from Sigma tags (scan_details.h).
 *
 * The profiles are a table, one row per (channel, event id), each naming up
 * to six items; an item is one field, or two joined by ':' (address and
 * port).  A field is looked up by its Windows name (decode_winxml's) and
 * then under winlog.event_data. (Winlogbeat's JSON).  The table is small
 * and read once per alert, so a linear search is enough.
 */
#include "cli/scan_details.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "event/event.h"
#include "event/field.h"
#include "util/buf.h"

#define SYSMON "Microsoft-Windows-Sysmon/Operational"
#define PWSH "Microsoft-Windows-PowerShell/Operational"

struct profile_item {
    const char *label;
    const char *field, *field2; /* field2: joined as field:field2 */
    size_t cut;                 /* 0: SCAN_DETAILS_VALUE_MAX */
};

struct profile {
    const char *channel;
    const char *event_id;
    struct profile_item item[6];
};

static const struct profile profiles[] = {
    {"Security",
     "4624",
     {{"User", "TargetUserName", NULL, 0},
      {"Domain", "TargetDomainName", NULL, 0},
      {"LogonType", "LogonType", NULL, 0},
      {"SrcIP", "IpAddress", NULL, 0},
      {"SrcHost", "WorkstationName", NULL, 0},
      {"Process", "ProcessName", NULL, 0}}},
    {"Security",
     "4625",
     {{"User", "TargetUserName", NULL, 0},
      {"Domain", "TargetDomainName", NULL, 0},
      {"LogonType", "LogonType", NULL, 0},
      {"SrcIP", "IpAddress", NULL, 0},
      {"Process", "ProcessName", NULL, 0},
      {"Status", "SubStatus", NULL, 0}}},
    {"Security",
     "4648",
     {{"User", "SubjectUserName", NULL, 0},
      {"TargetUser", "TargetUserName", NULL, 0},
      {"TargetServer", "TargetServerName", NULL, 0},
      {"SrcIP", "IpAddress", NULL, 0},
      {"Process", "ProcessName", NULL, 0}}},
    {"Security",
     "4688",
     {{"Cmdline", "CommandLine", NULL, 0},
      {"Process", "NewProcessName", NULL, 0},
      {"Parent", "ParentProcessName", NULL, 0},
      {"User", "SubjectUserName", NULL, 0}}},
    {"Security",
     "4720",
     {{"NewUser", "TargetUserName", NULL, 0}, {"By", "SubjectUserName", NULL, 0}}},
    {"Security",
     "4732",
     {{"Member", "MemberName", NULL, 0},
      {"Group", "TargetUserName", NULL, 0},
      {"By", "SubjectUserName", NULL, 0}}},
    {"Security",
     "5145",
     {{"User", "SubjectUserName", NULL, 0},
      {"SrcIP", "IpAddress", NULL, 0},
      {"Share", "ShareName", NULL, 0},
      {"Path", "RelativeTargetName", NULL, 0}}},
    {"Security", "1102", {{"User", "SubjectUserName", NULL, 0}}},
    {SYSMON,
     "1",
     {{"Cmdline", "CommandLine", NULL, 0},
      {"Process", "Image", NULL, 0},
      {"Parent", "ParentImage", NULL, 0},
      {"ParentCmdline", "ParentCommandLine", NULL, 120},
      {"User", "User", NULL, 0}}},
    {SYSMON,
     "3",
     {{"Process", "Image", NULL, 0},
      {"Src", "SourceIp", "SourcePort", 0},
      {"Dst", "DestinationIp", "DestinationPort", 0},
      {"DstHost", "DestinationHostname", NULL, 0},
      {"Proto", "Protocol", NULL, 0},
      {"User", "User", NULL, 0}}},
    {SYSMON, "8", {{"Process", "SourceImage", NULL, 0}, {"Target", "TargetImage", NULL, 0}}},
    {SYSMON,
     "10",
     {{"Process", "SourceImage", NULL, 0},
      {"Target", "TargetImage", NULL, 0},
      {"Access", "GrantedAccess", NULL, 0}}},
    {SYSMON, "11", {{"Process", "Image", NULL, 0}, {"File", "TargetFilename", NULL, 0}}},
    {SYSMON,
     "13",
     {{"Process", "Image", NULL, 0},
      {"Key", "TargetObject", NULL, 0},
      {"Value", "Details", NULL, 120}}},
    {"System",
     "7045",
     {{"Service", "ServiceName", NULL, 0},
      {"Path", "ImagePath", NULL, 0},
      {"Account", "AccountName", NULL, 0},
      {"StartType", "StartType", NULL, 0}}},
    {PWSH, "4104", {{"ScriptBlock", "ScriptBlockText", NULL, 200}, {"Path", "Path", NULL, 0}}},
};

/* The System section's leaves and the aliases decoders add: what the
 * generic line skips (they are the row's own columns, or repeat data). */
static const char *const generic_skip[] = {
    "Channel",       "Computer",      "EventID",
    "EventRecordID", "Keywords",      "Level",
    "Opcode",        "ProcessID",     "Provider_EventSourceName",
    "Provider_Guid", "Provider_Name", "SecurityUserID",
    "Task",          "ThreadID",      "TimeCreated",
    "Version",       "Qualifiers",    "message",
};

#define GENERIC_FIELDS 5

/* Appends n bytes of s, control bytes as spaces, cut at `cut` bytes (at a
 * character boundary) with "..." and never past SCAN_DETAILS_MAX.  -E2BIG once the line is full. */
static int put_clean(struct buf *out, size_t start, const char *s, size_t n, size_t cut)
{
    size_t room = SCAN_DETAILS_MAX - (out->len - start), k = n;
    int r;

    if (out->len - start >= SCAN_DETAILS_MAX)
        return -E2BIG;
    if (k > cut)
        k = cut;
    if (k > room)
        k = room;
    /* Never cut inside a UTF-8 sequence: back to its lead byte. */
    while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((r = buf_putc(out, (char)(c < 0x20 || c == 0x7f ? ' ' : c))) < 0)
            return r;
    }
    if (k < n && (r = buf_puts(out, "...")) < 0)
        return r;
    return k < n && k == room ? -E2BIG : 0;
}

/* A field by its Windows name, or under winlog.event_data. */
static const char *get_field(const struct event *ev, const char *name, size_t *ret_len)
{
    char wl[128];
    uint32_t id = field_lookup(name, strlen(name));
    const char *v = id != FIELD_NONE ? event_get(ev, id, ret_len) : NULL;
    int n;

    if (v)
        return v;
    n = snprintf(wl, sizeof(wl), "winlog.event_data.%s", name);
    if (n < 0 || (size_t)n >= sizeof(wl))
        return NULL;
    id = field_lookup(wl, (size_t)n);
    return id != FIELD_NONE ? event_get(ev, id, ret_len) : NULL;
}

/* Empty and "-" (Windows' "none") say nothing. */
static int says_nothing(const char *v, size_t n)
{
    return !v || n == 0 || (n == 1 && v[0] == '-');
}

/* One "Label: value" of a profile; *ret_put set when it was written. */
static int put_item(const struct event *ev, const struct profile_item *it, struct buf *out,
                    size_t start, int *ret_put)
{
    size_t n = 0, n2 = 0, cut = it->cut ? it->cut : SCAN_DETAILS_VALUE_MAX;
    const char *v = get_field(ev, it->field, &n), *v2 = NULL;
    int r;

    *ret_put = 0;
    if (says_nothing(v, n))
        return 0;
    if (it->field2 && (v2 = get_field(ev, it->field2, &n2)) && says_nothing(v2, n2))
        v2 = NULL;
    if ((out->len > start && (r = put_clean(out, start, " | ", 3, 3)) < 0) ||
        (r = put_clean(out, start, it->label, strlen(it->label), cut)) < 0 ||
        (r = put_clean(out, start, ": ", 2, 2)) < 0 || (r = put_clean(out, start, v, n, cut)) < 0)
        return r;
    if (v2 && ((r = put_clean(out, start, ":", 1, 1)) < 0 ||
               (r = put_clean(out, start, v2, n2, cut)) < 0))
        return r;
    *ret_put = 1;
    return 0;
}

static const struct profile *find_profile(const struct event *ev)
{
    size_t cn = 0, en = 0;
    uint32_t cid = field_lookup("winlog.channel", 14);
    const char *ch = cid != FIELD_NONE ? event_get(ev, cid, &cn) : NULL;
    const char *eid = event_get(ev, FIELD_EVENT_CODE, &en);

    if (!ch || !eid)
        return NULL;
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        if (strlen(profiles[i].channel) == cn && strncasecmp(profiles[i].channel, ch, cn) == 0 &&
            strlen(profiles[i].event_id) == en && memcmp(profiles[i].event_id, eid, en) == 0)
            return &profiles[i];
    return NULL;
}

static int skipped(const char *name)
{
    if (strchr(name, '.') || name[0] == '@')
        return 1; /* ECS aliases and @timestamp repeat the Windows names */
    for (size_t i = 0; i < sizeof(generic_skip) / sizeof(generic_skip[0]); i++)
        if (strcmp(name, generic_skip[i]) == 0)
            return 1;
    return 0;
}

/* The generic line of a Windows event: its first data fields. */
static int put_generic_windows(const struct event *ev, struct buf *out, size_t start)
{
    int r, put = 0;

    for (uint32_t i = 0; i < ev->nfields && put < GENERIC_FIELDS; i++) {
        const struct event_field *f = &ev->fields[i];
        const char *name = field_name(f->id);

        if (!name || skipped(name) || says_nothing(f->val, f->len))
            continue;
        if ((out->len > start && (r = put_clean(out, start, " | ", 3, 3)) < 0) ||
            (r = put_clean(out, start, name, strlen(name), SCAN_DETAILS_VALUE_MAX)) < 0 ||
            (r = put_clean(out, start, ": ", 2, 2)) < 0 ||
            (r = put_clean(out, start, f->val, f->len, SCAN_DETAILS_VALUE_MAX)) < 0)
            return r;
        put++;
    }
    return 0;
}

/* The generic line of any other event: its message, else its record;
 * either, when it holds an event's XML, gives way to the fields. */
static int put_generic(const struct event *ev, struct buf *out, size_t start)
{
    size_t n = 0;
    const char *v = event_get(ev, FIELD_MESSAGE, &n);

    if (!v) {
        v = ev->raw;
        n = ev->raw_len;
    }
    if (!v)
        return 0;
    if (memmem(v, n, "<Event", 6))
        return put_generic_windows(ev, out, start);
    return put_clean(out, start, v, n, SCAN_DETAILS_MAX);
}

int scan_details_event(const struct event *ev, struct buf *out, int *ret_profiled)
{
    const struct profile *p = find_profile(ev);
    uint32_t cid = field_lookup("winlog.channel", 14);
    size_t start = out->len;
    int r = 0, put = 0;

    if (ret_profiled)
        *ret_profiled = 0;
    for (size_t i = 0; p && i < sizeof(p->item) / sizeof(p->item[0]) && p->item[i].label; i++) {
        int one;
        if ((r = put_item(ev, &p->item[i], out, start, &one)) < 0)
            break;
        put |= one;
    }
    if (r == 0 && !put) {
        if (cid != FIELD_NONE && event_get(ev, cid, &(size_t){0}))
            r = put_generic_windows(ev, out, start);
        else
            r = put_generic(ev, out, start);
    } else if (ret_profiled) {
        *ret_profiled = 1;
    }
    return r == -E2BIG ? 0 : r; /* a full line is a cut line, not an error */
}

static const struct {
    const char *tag, *name;
} tactics[] = {
    {"reconnaissance", "Reconnaissance"},
    {"resource_development", "Resource Development"},
    {"initial_access", "Initial Access"},
    {"execution", "Execution"},
    {"persistence", "Persistence"},
    {"privilege_escalation", "Privilege Escalation"},
    {"defense_evasion", "Defense Evasion"},
    {"credential_access", "Credential Access"},
    {"discovery", "Discovery"},
    {"lateral_movement", "Lateral Movement"},
    {"collection", "Collection"},
    {"command_and_control", "Command and Control"},
    {"exfiltration", "Exfiltration"},
    {"impact", "Impact"},
};

/* Sigma wrote tactics with '_' and now writes them with '-'
 * (attack.privilege-escalation): either matches. */
static int tactic_is(const char *t, const char *tag)
{
    for (; *t && *tag; t++, tag++) {
        char c = *t == '-' ? '_' : (char)(*t >= 'A' && *t <= 'Z' ? *t - 'A' + 'a' : *t);
        if (c != *tag)
            return 0;
    }
    return *t == *tag;
}

/* T, then digits and at most one ".NNN": attack.t1059.001. */
static int is_technique(const char *s)
{
    size_t i = 1, dots = 0;

    if (s[0] != 't' && s[0] != 'T')
        return 0;
    if (!(s[1] >= '0' && s[1] <= '9'))
        return 0;
    for (; s[i]; i++) {
        if (s[i] == '.' && i > 1 && s[i - 1] != '.' && ++dots <= 1)
            continue;
        if (!(s[i] >= '0' && s[i] <= '9'))
            return 0;
    }
    return s[i - 1] != '.';
}

static int append_sep(struct buf *b, const char *s, size_t n)
{
    int r;

    if (b->len && (r = buf_puts(b, ", ")) < 0)
        return r;
    return buf_append(b, s, n);
}

int scan_details_attack(const char *const *tags, size_t ntags, struct buf *tac, struct buf *tech)
{
    int r;

    for (size_t i = 0; i < ntags; i++) {
        const char *t = tags[i];

        if (!t || strncasecmp(t, "attack.", 7) != 0)
            continue;
        t += 7;
        if (is_technique(t)) {
            char up[32];
            size_t n = strlen(t);

            if (n >= sizeof(up))
                continue;
            for (size_t k = 0; k <= n; k++)
                up[k] = (char)(t[k] == 't' ? 'T' : t[k]);
            if ((r = append_sep(tech, up, n)) < 0)
                return r;
            continue;
        }
        for (size_t k = 0; k < sizeof(tactics) / sizeof(tactics[0]); k++)
            if (tactic_is(t, tactics[k].tag)) {
                if ((r = append_sep(tac, tactics[k].name, strlen(tactics[k].name))) < 0)
                    return r;
                break;
            }
    }
    return 0;
}

/* A ", "-separated list as a JSON array of strings. */
static int json_list(struct buf *out, const char *list)
{
    int r = buf_putc(out, '[');

    while (r == 0 && list && *list) {
        const char *end = strstr(list, ", ");
        size_t n = end ? (size_t)(end - list) : strlen(list);

        if ((out->data[out->len - 1] != '[' && (r = buf_putc(out, ',')) < 0) ||
            (r = buf_json_str(out, list, n)) < 0)
            return r;
        list = end ? end + 2 : list + n;
    }
    return r < 0 ? r : buf_putc(out, ']');
}

/* A string, or null when there is none. */
static int json_str_or_null(struct buf *out, const char *s, size_t n)
{
    return s ? buf_json_str(out, s, n) : buf_puts(out, "null");
}

/* EventRecordID is a 64-bit counter; anything else in its place (a
 * hostile record) is not passed on as a number. */
static int json_record_id(struct buf *out, const char *s, size_t n)
{
    unsigned long long v = 0;

    if (!s || n == 0 || n > 19)
        return buf_puts(out, "null");
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return buf_puts(out, "null");
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    return buf_printf(out, "%llu", v);
}

int scan_details_json(struct buf *out, const struct scan_details_row *row)
{
    int r;

    if (!out->len || out->data[out->len - 1] != '}')
        return -EINVAL;
    out->len--; /* the object's closing brace, put back at the end */
    if (row->details && ((r = buf_puts(out, ",\"details\":")) < 0 ||
                         (r = buf_json_str(out, row->details, strlen(row->details))) < 0))
        return r;
    if ((r = buf_puts(out, ",\"channel\":")) < 0 ||
        (r = json_str_or_null(out, row->channel, row->channel_len)) < 0 ||
        (r = buf_puts(out, ",\"record_id\":")) < 0 ||
        (r = json_record_id(out, row->record_id, row->record_id_len)) < 0 ||
        (r = buf_puts(out, ",\"tactics\":")) < 0 || (r = json_list(out, row->tactics)) < 0 ||
        (r = buf_puts(out, ",\"techniques\":")) < 0 || (r = json_list(out, row->techniques)) < 0 ||
        (r = buf_puts(out, ",\"file\":")) < 0 ||
        (r = json_str_or_null(out, row->file, row->file ? strlen(row->file) : 0)) < 0)
        return r;
    return buf_putc(out, '}');
}
