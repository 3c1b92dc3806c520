/*
 * test_scan_details.c - the details column of `hikeshi scan`: the profiles
 * of 4624, 4688, Sysmon 1 and 3, 7045 and 4104 pick their fields from
 * events decoded by decode_winxml; the generic line of an unknown Windows
 * event lists its data, never the XML; cuts keep UTF-8 whole; and ATT&CK
 * names from Sigma tags in both spellings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cli/scan_details.h"
#include "decode/decode.h"
#include "decode/decode_winxml.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"
#include "util/buf.h"

/* An event as the Windows Event Log writes it, from its System part and
 * EventData pairs (name, value, name, value, ..., NULL). */
static void details_of(const char *channel, const char *eid, const char *const *data, char *out,
                       size_t size, int *ret_profiled)
{
    char xml[16384];
    size_t o;
    struct arena a;
    struct event ev;
    struct buf b;
    struct parse_err err;

    o = (size_t)snprintf(xml, sizeof(xml),
                         "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
                         "<System><Provider Name='P'/><EventID>%s</EventID>"
                         "<TimeCreated SystemTime='2019-03-19T23:35:15.295376Z'/>"
                         "<EventRecordID>4242</EventRecordID><Channel>%s</Channel>"
                         "<Computer>PC01.example.corp</Computer></System><EventData>",
                         eid, channel);
    for (size_t i = 0; data[i]; i += 2)
        o += (size_t)snprintf(xml + o, sizeof(xml) - o, "<Data Name='%s'>%s</Data>", data[i],
                              data[i + 1]);
    o += (size_t)snprintf(xml + o, sizeof(xml) - o, "</EventData></Event>");
    assert_true(o < sizeof(xml));
    arena_init(&a, 0);
    event_init(&ev, &a, xml, o, 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(decode_winxml(&ev, xml, o, NULL, &err), 0);
    buf_init(&b, 64 * 1024);
    assert_int_equal(scan_details_event(&ev, &b, ret_profiled), 0);
    snprintf(out, size, "%s", b.data ? b.data : "");
    buf_done(&b);
    event_reset(&ev);
    arena_done(&a);
}

static void test_logon_4624(void **state)
{
    static const char *const d[] = {"SubjectUserName",
                                    "PC01$",
                                    "TargetUserName",
                                    "admin01",
                                    "TargetDomainName",
                                    "EXAMPLE",
                                    "LogonType",
                                    "10",
                                    "WorkstationName",
                                    "-",
                                    "IpAddress",
                                    "10.0.0.5",
                                    "ProcessName",
                                    "C:\\Windows\\System32\\winlogon.exe",
                                    NULL};
    char out[2048];
    int prof;

    (void)state;
    details_of("Security", "4624", d, out, sizeof(out), &prof);
    assert_int_equal(prof, 1);
    /* "-" is Windows' "none": WorkstationName is left out. */
    assert_string_equal(out, "User: admin01 | Domain: EXAMPLE | LogonType: 10 | SrcIP: 10.0.0.5 | "
                             "Process: C:\\Windows\\System32\\winlogon.exe");
}

static void test_process_4688_and_sysmon(void **state)
{
    static const char *const p4688[] = {"SubjectUserName",
                                        "alice",
                                        "NewProcessName",
                                        "C:\\Windows\\System32\\cmd.exe",
                                        "CommandLine",
                                        "cmd.exe /c whoami",
                                        "ParentProcessName",
                                        "C:\\Windows\\explorer.exe",
                                        NULL};
    static const char *const s1[] = {
        "Image",       "C:\\Windows\\System32\\rundll32.exe", "CommandLine", "rundll32 x.dll,Start",
        "ParentImage", "C:\\Windows\\System32\\cmd.exe",      "User",        "CORP\\bob",
        NULL};
    static const char *const s3[] = {
        "Image",         "C:\\Tools\\nc.exe", "SourceIp",        "10.0.0.7", "SourcePort", "50123",
        "DestinationIp", "203.0.113.9",       "DestinationPort", "4444",     NULL};
    char out[2048];

    (void)state;
    details_of("Security", "4688", p4688, out, sizeof(out), NULL);
    assert_string_equal(out, "Cmdline: cmd.exe /c whoami | Process: C:\\Windows\\System32\\cmd.exe"
                             " | Parent: C:\\Windows\\explorer.exe | User: alice");
    details_of("Microsoft-Windows-Sysmon/Operational", "1", s1, out, sizeof(out), NULL);
    assert_string_equal(out, "Cmdline: rundll32 x.dll,Start | Process: "
                             "C:\\Windows\\System32\\rundll32.exe | Parent: "
                             "C:\\Windows\\System32\\cmd.exe | User: CORP\\bob");
    details_of("Microsoft-Windows-Sysmon/Operational", "3", s3, out, sizeof(out), NULL);
    assert_string_equal(out, "Process: C:\\Tools\\nc.exe | Src: 10.0.0.7:50123 | "
                             "Dst: 203.0.113.9:4444");
}

static void test_service_and_script(void **state)
{
    static const char *const svc[] = {
        "ServiceName", "evil",        "ImagePath", "%COMSPEC% /c echo x &gt; y",
        "AccountName", "LocalSystem", NULL};
    char script[1200], out[4096];
    const char *sb[] = {"ScriptBlockText", script, "Path", "", NULL};
    size_t o = 0;

    (void)state;
    details_of("System", "7045", svc, out, sizeof(out), NULL);
    assert_string_equal(out,
                        "Service: evil | Path: %COMSPEC% /c echo x > y | Account: LocalSystem");
    /* A long script with line breaks and a character of three bytes at
     * the cut: one line, cut at 200 bytes, before the character. */
    while (o + 20 < sizeof(script)) {
        memcpy(script + o, "Write-Host 'a'\n", 15);
        o += 15;
    }
    script[o] = '\0';
    memcpy(script + 198, "\xe2\x82\xac", 3); /* U+20AC over bytes 198..200 */
    details_of("Microsoft-Windows-PowerShell/Operational", "4104", sb, out, sizeof(out), NULL);
    assert_int_equal(strncmp(out, "ScriptBlock: Write-Host 'a' Write-Host", 38), 0);
    assert_null(strchr(out, '\n'));
    assert_int_equal(strlen(out), strlen("ScriptBlock: ") + 198 + 3);
    assert_string_equal(out + strlen(out) - 3, "...");
}

static void test_generic(void **state)
{
    static const char *const d[] = {
        "ObjectName", "\\Device\\X", "AccessMask", "0x1",    "ProcessName", "C:\\a.exe", "HandleId",
        "0x4",        "Extra1",      "1",          "Extra2", "2",           NULL};
    char out[4096];
    int prof = -1;

    (void)state;
    details_of("Security", "4663", d, out, sizeof(out), &prof);
    assert_int_equal(prof, 0);
    /* Five data fields, none of the System ones, no XML. */
    assert_string_equal(out, "ObjectName: \\Device\\X | AccessMask: 0x1 | ProcessName: C:\\a.exe | "
                             "HandleId: 0x4 | Extra1: 1");
    /* A profiled kind whose fields are all missing falls back too. */
    details_of("Security", "4624", d + 6, out, sizeof(out), &prof);
    assert_int_equal(prof, 0);
    assert_string_equal(out, "HandleId: 0x4 | Extra1: 1 | Extra2: 2");
}

static void test_attack(void **state)
{
    static const char *const tags[] = {"attack.execution",
                                       "attack.t1059.001",
                                       "attack.privilege-escalation",
                                       "attack.T1548",
                                       "attack.g0016",
                                       "attack.s0002",
                                       "cve.2021-1675",
                                       "attack.t1059.",
                                       "attack.command_and_control",
                                       NULL};
    struct buf tac, tech;

    (void)state;
    buf_init(&tac, 4096);
    buf_init(&tech, 4096);
    assert_int_equal(scan_details_attack(tags, 9, &tac, &tech), 0);
    assert_string_equal(tac.data, "Execution, Privilege Escalation, Command and Control");
    assert_string_equal(tech.data, "T1059.001, T1548");
    buf_done(&tac);
    buf_done(&tech);
}

/* -f jsonl: the columns added to an alert's object, which keeps its own
 * fields; a record id that is no number is null, never passed on. */
static void test_json(void **state)
{
    struct scan_details_row row = {.details = "User: \"x\"\n",
                                   .record_id = "8075",
                                   .record_id_len = 4,
                                   .channel = "Security",
                                   .channel_len = 8,
                                   .tactics = "Execution, Command and Control",
                                   .techniques = "T1059.001",
                                   .file = "a.evtx"};
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    assert_int_equal(buf_puts(&b, "{\"rule\":{\"id\":\"r\"}}"), 0);
    assert_int_equal(scan_details_json(&b, &row), 0);
    assert_string_equal(b.data, "{\"rule\":{\"id\":\"r\"},\"details\":\"User: \\\"x\\\"\\n\","
                                "\"channel\":\"Security\",\"record_id\":8075,"
                                "\"tactics\":[\"Execution\",\"Command and Control\"],"
                                "\"techniques\":[\"T1059.001\"],\"file\":\"a.evtx\"}");
    /* no event: details already in the object, no channel, no file */
    buf_reset(&b);
    row = (struct scan_details_row){.record_id = "12x", .record_id_len = 3};
    assert_int_equal(buf_puts(&b, "{\"details\":\"d\"}"), 0);
    assert_int_equal(scan_details_json(&b, &row), 0);
    assert_string_equal(b.data, "{\"details\":\"d\",\"channel\":null,\"record_id\":null,"
                                "\"tactics\":[],\"techniques\":[],\"file\":null}");
    buf_reset(&b);
    row.record_id = "123456789012345678901"; /* past 64 bits */
    row.record_id_len = 21;
    assert_int_equal(buf_puts(&b, "{}"), 0);
    assert_int_equal(scan_details_json(&b, &row), 0);
    assert_non_null(strstr(b.data, "\"record_id\":null"));
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "{\"x\":1"), 0);
    assert_int_equal(scan_details_json(&b, &row), -EINVAL);
    buf_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logon_4624),
        cmocka_unit_test(test_process_4688_and_sysmon),
        cmocka_unit_test(test_service_and_script),
        cmocka_unit_test(test_generic),
        cmocka_unit_test(test_attack),
        cmocka_unit_test(test_json),
    };

    field_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
