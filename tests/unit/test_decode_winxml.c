/*
 * test_decode_winxml.c - decode_winxml on real EVTX records (rendered by
 * libevtx from EVTX-ATTACK-SAMPLES and embedded here as data), and on
 * malformed XML: every prefix of a real record, bad entities, unquoted
 * attributes, mismatched tags, nesting past the cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_winxml.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

/* System 104 (log cleared): UserData, whose Channel is the cleared log.
 * From "Defense Evasion" samples, record 20733. */
static const char rec_104[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n"
    "  <System>\n"
    "    <Provider Name=\"Microsoft-Windows-Eventlog\" Guid=\"{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}\"/>\n"
    "    <EventID>104</EventID>\n"
    "    <Version>0</Version>\n"
    "    <Level>4</Level>\n"
    "    <Task>104</Task>\n"
    "    <Opcode>0</Opcode>\n"
    "    <Keywords>0x8000000000000000</Keywords>\n"
    "    <TimeCreated SystemTime=\"2020-09-26T21:54:58.505617400Z\"/>\n"
    "    <EventRecordID>20733</EventRecordID>\n"
    "    <Correlation/>\n"
    "    <Execution ProcessID=\"1276\" ThreadID=\"4260\"/>\n"
    "    <Channel>System</Channel>\n"
    "    <Computer>MSEDGEWIN10</Computer>\n"
    "    <Security UserID=\"S-1-5-21-3461203602-4096304019-2269080069-1000\"/>\n"
    "  </System>\n"
    "  <UserData>\n"
    "    <LogFileCleared xmlns=\"http://manifests.microsoft.com/win/2004/08/windows/eventlog\">\n"
    "      <SubjectUserName>IEUser</SubjectUserName>\n"
    "      <SubjectDomainName>MSEDGEWIN10</SubjectDomainName>\n"
    "      <Channel>Application</Channel>\n"
    "      <BackupPath/>\n"
    "    </LogFileCleared>\n"
    "  </UserData>\n"
    "</Event>\n";

/* Security 4688: EventData with an empty CommandLine, TargetUserName "-". */
static const char rec_4688[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n"
    "  <System>\n"
    "    <Provider Name=\"Microsoft-Windows-Security-Auditing\" Guid=\"{54849625-5478-4994-A5BA-3E3B0328C30D}\"/>\n"
    "    <EventID>4688</EventID>\n"
    "    <Version>2</Version>\n"
    "    <Level>0</Level>\n"
    "    <Task>13312</Task>\n"
    "    <Opcode>0</Opcode>\n"
    "    <Keywords>0x8020000000000000</Keywords>\n"
    "    <TimeCreated SystemTime=\"2021-12-07T17:33:01.462545800Z\"/>\n"
    "    <EventRecordID>329916</EventRecordID>\n"
    "    <Correlation/>\n"
    "    <Execution ProcessID=\"4\" ThreadID=\"8692\"/>\n"
    "    <Channel>Security</Channel>\n"
    "    <Computer>MSEDGEWIN10</Computer>\n"
    "    <Security/>\n"
    "  </System>\n"
    "  <EventData>\n"
    "    <Data Name=\"SubjectUserSid\">S-1-5-18</Data>\n"
    "    <Data Name=\"SubjectUserName\">MSEDGEWIN10$</Data>\n"
    "    <Data Name=\"SubjectDomainName\">WORKGROUP</Data>\n"
    "    <Data Name=\"SubjectLogonId\">0x00000000000003e7</Data>\n"
    "    <Data Name=\"NewProcessId\">0x0000000000001bc4</Data>\n"
    "    <Data Name=\"NewProcessName\">C:\\Windows\\System32\\svchost.exe</Data>\n"
    "    <Data Name=\"TokenElevationType\">%%1936</Data>\n"
    "    <Data Name=\"ProcessId\">0x0000000000000274</Data>\n"
    "    <Data Name=\"CommandLine\"/>\n"
    "    <Data Name=\"TargetUserSid\">S-1-0-0</Data>\n"
    "    <Data Name=\"TargetUserName\">-</Data>\n"
    "    <Data Name=\"TargetDomainName\">-</Data>\n"
    "    <Data Name=\"TargetLogonId\">0x0000000000000000</Data>\n"
    "    <Data Name=\"ParentProcessName\">C:\\Windows\\System32\\services.exe</Data>\n"
    "    <Data Name=\"MandatoryLabel\">S-1-16-16384</Data>\n"
    "  </EventData>\n"
    "</Event>\n";

/* Sysmon 1 (whoami via cmd.exe): &gt; and &amp; in ParentCommandLine. */
static const char rec_sysmon1[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n"
    "  <System>\n"
    "    <Provider Name=\"Microsoft-Windows-Sysmon\" Guid=\"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}\"/>\n"
    "    <EventID>1</EventID>\n"
    "    <Version>5</Version>\n"
    "    <Level>4</Level>\n"
    "    <Task>1</Task>\n"
    "    <Opcode>0</Opcode>\n"
    "    <Keywords>0x8000000000000000</Keywords>\n"
    "    <TimeCreated SystemTime=\"2019-04-30T20:32:51.371714000Z\"/>\n"
    "    <EventRecordID>9829</EventRecordID>\n"
    "    <Correlation/>\n"
    "    <Execution ProcessID=\"1964\" ThreadID=\"1664\"/>\n"
    "    <Channel>Microsoft-Windows-Sysmon/Operational</Channel>\n"
    "    <Computer>IEWIN7</Computer>\n"
    "    <Security UserID=\"S-1-5-18\"/>\n"
    "  </System>\n"
    "  <EventData>\n"
    "    <Data Name=\"RuleName\"/>\n"
    "    <Data Name=\"UtcTime\">2019-04-30 20:32:51.356</Data>\n"
    "    <Data Name=\"ProcessGuid\">{365ABB72-B0F3-5CC8-0000-0010373E1D00}</Data>\n"
    "    <Data Name=\"ProcessId\">3328</Data>\n"
    "    <Data Name=\"Image\">C:\\Windows\\System32\\whoami.exe</Data>\n"
    "    <Data Name=\"FileVersion\">6.1.7600.16385 (win7_rtm.090713-1255)</Data>\n"
    "    <Data Name=\"Description\">whoami - displays logged on user information</Data>\n"
    "    <Data Name=\"Product\">Microsoft® Windows® Operating System</Data>\n"
    "    <Data Name=\"Company\">Microsoft Corporation</Data>\n"
    "    <Data Name=\"CommandLine\">whoami  /all </Data>\n"
    "    <Data Name=\"CurrentDirectory\">C:\\</Data>\n"
    "    <Data Name=\"User\">IEWIN7\\IEUser</Data>\n"
    "    <Data Name=\"LogonGuid\">{365ABB72-B0F2-5CC8-0000-00203D311D00}</Data>\n"
    "    <Data Name=\"LogonId\">0x00000000001d313d</Data>\n"
    "    <Data Name=\"TerminalSessionId\">0</Data>\n"
    "    <Data Name=\"IntegrityLevel\">High</Data>\n"
    "    <Data Name=\"Hashes\">SHA1=DC058F52AD8ACBD316827B6DCAC2434AB3CC515C,MD5=0EBF71E33EF09CA65D9683AFA999C473,SHA256=599EFD455AEEEFE2044A9B597061F271595033F5D0DF2C99DFDBCA8394BBCEC3,IMPHASH=C5352B949915AB8CD5E1844790D19274</Data>\n"
    "    <Data Name=\"ParentProcessGuid\">{365ABB72-B0F3-5CC8-0000-0010C43A1D00}</Data>\n"
    "    <Data Name=\"ParentProcessId\">2828</Data>\n"
    "    <Data Name=\"ParentImage\">C:\\Windows\\System32\\cmd.exe</Data>\n"
    "    <Data Name=\"ParentCommandLine\">cmd.exe /Q /c whoami /all 1&gt; \\\\127.0.0.1\\ADMIN$\\__1556656369.7 2&gt;&amp;1</Data>\n"
    "  </EventData>\n"
    "</Event>\n";

static const struct decode_testlib_good good[] = {
    {rec_104,
     {{"EventID", "104"},
      {"event.code", "104"},
      {"Provider_Name", "Microsoft-Windows-Eventlog"},
      {"winlog.provider_name", "Microsoft-Windows-Eventlog"},
      {"Provider_Guid", "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}"},
      {"Channel", "System"},
      {"winlog.channel", "System"},
      {"Computer", "MSEDGEWIN10"},
      {"host.name", "MSEDGEWIN10"},
      {"Level", "4"},
      {"Task", "104"},
      {"Keywords", "0x8000000000000000"},
      {"EventRecordID", "20733"},
      {"ProcessID", "1276"},
      {"ThreadID", "4260"},
      {"SecurityUserID", "S-1-5-21-3461203602-4096304019-2269080069-1000"},
      {"@timestamp", "2020-09-26T21:54:58.505617Z"},
      {"SubjectUserName", "IEUser"},
      {"SubjectDomainName", "MSEDGEWIN10"},
      {"BackupPath", ""},
      {"Correlation", NULL},
      {NULL, NULL}}},
    {rec_4688,
     {{"EventID", "4688"},
      {"Channel", "Security"},
      {"Computer", "MSEDGEWIN10"},
      {"SecurityUserID", NULL},
      {"NewProcessName", "C:\\Windows\\System32\\svchost.exe"},
      {"TokenElevationType", "%%1936"},
      {"CommandLine", ""},
      {"process.command_line", ""},
      {"TargetUserName", "-"},
      {"user.name", "-"},
      {"ParentProcessName", "C:\\Windows\\System32\\services.exe"},
      {"@timestamp", "2021-12-07T17:33:01.462545Z"},
      {NULL, NULL}}},
    {rec_sysmon1,
     {{"EventID", "1"},
      {"Channel", "Microsoft-Windows-Sysmon/Operational"},
      {"Computer", "IEWIN7"},
      {"Provider_Name", "Microsoft-Windows-Sysmon"},
      {"RuleName", ""},
      {"Image", "C:\\Windows\\System32\\whoami.exe"},
      {"process.executable", "C:\\Windows\\System32\\whoami.exe"},
      {"CommandLine", "whoami  /all "},
      {"process.command_line", "whoami  /all "},
      {"Product", "Microsoft\xc2\xae Windows\xc2\xae Operating System"},
      {"ParentImage", "C:\\Windows\\System32\\cmd.exe"},
      {"ParentCommandLine",
       "cmd.exe /Q /c whoami /all 1> \\\\127.0.0.1\\ADMIN$\\__1556656369.7 2>&1"},
      {"User", "IEWIN7\\IEUser"},
      {NULL, NULL}}},
};

static void test_real_records(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_winxml, "winxml", good, sizeof(good) / sizeof(good[0]));
}

/* Both Channel values of the 104 stay, in document order: Sigma's
 * "Channel: Application" on a 104 means the cleared log. */
static void test_repeated_channel(void **state)
{
    struct event ev;
    struct parse_err perr;
    uint32_t id = field_lookup("Channel", 7);
    const char *want[] = {"System", "Application"};
    size_t seen = 0;

    (void)state;
    assert_int_equal(decode_testlib_run(decode_winxml, &ev, rec_104, strlen(rec_104), &perr), 0);
    for (uint32_t i = 0; i < ev.nfields; i++) {
        if (ev.fields[i].id != id)
            continue;
        assert_true(seen < 2);
        assert_int_equal(ev.fields[i].len, strlen(want[seen]));
        assert_memory_equal(ev.fields[i].val, want[seen], ev.fields[i].len);
        seen++;
    }
    assert_int_equal(seen, 2);
    assert_int_equal(ev.has_time, 1);
}

/* Shapes a forwarded event may take: prolog, CDATA, references. */
static void test_syntax(void **state)
{
    static const struct decode_testlib_good g[] = {
        {"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- fwd --><Event xmlns='x'><System>"
         "<EventID Qualifiers='0'>7045</EventID><Provider Name='Service Control Manager'/>"
         "</System><EventData><Data Name='ServiceName'>a&lt;b&#x41;&#66;&#x20AC;</Data>"
         "<Data Name='ImagePath'><![CDATA[c:\\x<y>.exe]]></Data><Data>u1</Data><Data>u2</Data>"
         "<Binary>00FF</Binary></EventData><RenderingInfo Culture='en-US'>"
         "<Message>svc <!-- c -->installed</Message><Level>Information</Level></RenderingInfo>"
         "</Event>\r\n",
         {{"EventID", "7045"},
          {"Provider_Name", "Service Control Manager"},
          {"ServiceName", "a<bAB\xe2\x82\xac"},
          {"ImagePath", "c:\\x<y>.exe"},
          {"Data", "u1"},
          {"Binary", "00FF"},
          {"message", "svc installed"},
          {"Level", NULL},
          {NULL, NULL}}},
        /* libevtx renders some template names as nothing. */
        {"<Event><System><EventID>1</EventID></System><EventData>"
         "< Name=\"ErrorCode\">0x0</></EventData></Event>",
         {{"EventID", "1"}, {"ErrorCode", "0x0"}, {NULL, NULL}}},
    };

    (void)state;
    decode_testlib_check_good(decode_winxml, "winxml", g, sizeof(g) / sizeof(g[0]));
}

static void test_not_winxml(void **state)
{
    static const char *const lines[] = {
        "", "   ", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
        "<Events><Event/></Events>", "<Eventlog>", "{\"EventID\":4624}", "<Event", "<?xml",
    };

    (void)state;
    for (size_t c = 0; c < sizeof(lines) / sizeof(lines[0]); c++)
        decode_testlib_expect_bad(decode_winxml, c, lines[c], strlen(lines[c]), -ENOENT, 0);
}

static void test_malformed(void **state)
{
    static const struct {
        const char *line;
        size_t off;
    } bad[] = {
        {"<Event><System><EventID>1</EventID></System>", 44},        /* unclosed */
        {"<Event><System></Event>", 15},                             /* mismatched */
        {"<Event><Data Name=X>1</Data></Event>", 18},                /* unquoted */
        {"<Event><Data Name=\"X>1</Data></Event>", 22},              /* '<' in value */
        {"<Event><Data>a &foo; b</Data></Event>", 15},               /* unknown entity */
        {"<Event><Data>a &amp b</Data></Event>", 15},                /* no ';' */
        {"<Event><Data>&#0;</Data></Event>", 13},                    /* NUL */
        {"<Event><Data>&#xD800;</Data></Event>", 13},                /* surrogate */
        {"<Event><Data>&#x110000;</Data></Event>", 13},              /* out of range */
        {"<Event><Data>&#12a;</Data></Event>", 17},                  /* bad digit */
        {"<Event><!DOCTYPE x></Event>", 7},                          /* DOCTYPE */
        {"<Event></Event><Event></Event>", 15},                      /* two roots */
        {"<Event></Event> x", 16},                                   /* trailing text */
        {"<Event><![CDATA[x</Event>", 7},                            /* open CDATA */
        {"<Event><!-- x</Event>", 7},                                /* open comment */
        {"<Event a='1'b='2'></Event>", 12},                          /* no space */
        {"</Event>", 0},                                             /* not an XML */
    };
    struct event ev;
    struct parse_err perr;

    (void)state;
    for (size_t c = 0; c < sizeof(bad) / sizeof(bad[0]); c++) {
        int r = decode_testlib_run(decode_winxml, &ev, bad[c].line, strlen(bad[c].line), &perr);
        if (c == sizeof(bad) / sizeof(bad[0]) - 1) {
            decode_testlib_expect_ret(c, bad[c].line, r, -ENOENT, &perr);
            continue;
        }
        decode_testlib_expect_ret(c, bad[c].line, r, -EINVAL, &perr);
        if (perr.off != bad[c].off)
            fail_msg("case %zu (%s): offset %zu, want %zu (%s)", c, bad[c].line, perr.off,
                     bad[c].off, perr.msg);
        assert_null(ev.decoder);
    }
}

static void test_depth(void **state)
{
    char doc[4096];
    size_t o = 0;
    struct event ev;
    struct parse_err perr;
    int depth;

    (void)state;
    for (depth = DECODE_WINXML_DEPTH; depth <= DECODE_WINXML_DEPTH + 1; depth++) {
        o = (size_t)snprintf(doc, sizeof(doc), "<Event>");
        for (int d = 1; d < depth; d++)
            o += (size_t)snprintf(doc + o, sizeof(doc) - o, "<a>");
        for (int d = 1; d < depth; d++)
            o += (size_t)snprintf(doc + o, sizeof(doc) - o, "</a>");
        o += (size_t)snprintf(doc + o, sizeof(doc) - o, "</Event>");
        assert_int_equal(decode_testlib_run(decode_winxml, &ev, doc, o, &perr),
                         depth <= DECODE_WINXML_DEPTH ? 0 : -EINVAL);
    }
    /* Far deeper than the cap: refused at the cap, no recursion. */
    o = (size_t)snprintf(doc, sizeof(doc), "<Event>");
    while (o + 3 < sizeof(doc))
        o += (size_t)snprintf(doc + o, sizeof(doc) - o, "<a>");
    assert_int_equal(decode_testlib_run(decode_winxml, &ev, doc, o, &perr), -EINVAL);
    assert_non_null(strstr(perr.msg, "deep"));
}

/* Every proper prefix of a real record is refused, never read past. */
static void test_truncated(void **state)
{
    const char *const recs[] = {rec_104, rec_4688, rec_sysmon1};
    struct event ev;
    struct parse_err perr;

    (void)state;
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(recs[k]);
        /* The record ends in "</Event>\n": without the newline it is whole. */
        for (size_t cut = 0; cut + 1 < n; cut++) {
            int r = decode_testlib_run(decode_winxml, &ev, recs[k], cut, &perr);
            if (r != -EINVAL && r != -ENOENT)
                fail_msg("record %zu cut at %zu: %d", k, cut, r);
        }
        assert_int_equal(decode_testlib_run(decode_winxml, &ev, recs[k], n - 1, &perr), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_records), cmocka_unit_test(test_repeated_channel),
        cmocka_unit_test(test_syntax),       cmocka_unit_test(test_not_winxml),
        cmocka_unit_test(test_malformed),    cmocka_unit_test(test_depth),
        cmocka_unit_test(test_truncated),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
