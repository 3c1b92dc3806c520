/*
 * test_sigma.c - Sigma rule loading, conditions and the reference evaluator.
 *
 * (1) every case of shared/sigma/EDGE_CASES.md as a table, (2) modifier and
 * condition unit tests with the tricky inputs, filter rules loaded, refused
 * and applied, (3) the whole SigmaHQ rules/ tree loaded, refusals counted
 * by reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "detect/sigma.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

#include "sigma_testlib.h"

/* A JSON null in EDGE_CASES: decode_json drops null members, so the field is
 * absent from the decoded event. */
static const char JNULL[] = "<json null>";

#define MAXKV 16
struct tevent {
    int match;                 /* 1 match, 0 no match */
    const char *kv[MAXKV + 1]; /* name, value, name, value, ..., NULL */
};

struct tcase {
    const char *id;
    const char *det; /* the `detection:` section, YAML */
    int refuse;      /* the rule must not load */
    struct tevent ev[6];
    const char *gap; /* non-NULL: known gap, reason */
};

#define EV(m, ...)                                                                                 \
    {                                                                                              \
        m,                                                                                         \
        {                                                                                          \
            __VA_ARGS__, NULL                                                                      \
        }                                                                                          \
    }

static const struct tcase edge_cases[] = {
    {"EC01",
     "detection:\n    selection:\n        Image: 'C:\\Windows\\System32\\whoami.exe'\n"
     "    condition: selection\n",
     0,
     {EV(1, "Image", "c:\\windows\\system32\\WHOAMI.EXE"),
      EV(0, "Image", "C:\\Windows\\System32\\whoami.exe.bak"),
      EV(0, "Image", "D:\\C:\\Windows\\System32\\whoami.exe")},
     NULL},
    {"EC02",
     "detection:\n    selection:\n        Image: '*\\prog?.exe'\n    condition: selection\n",
     0,
     {EV(1, "Image", "C:\\x\\progA.exe"), EV(0, "Image", "C:\\x\\prog.exe"),
      EV(0, "Image", "C:\\x\\progAB.exe"), EV(1, "Image", "\\prog1.exe")},
     NULL},
    {"EC03",
     "detection:\n    selection_a:\n        Path: 'C:\\Windows'\n    selection_b:\n"
     "        Path: 'C:\\\\Windows'\n    condition: selection_a and selection_b\n",
     0,
     {EV(1, "Path", "C:\\Windows"), EV(0, "Path", "C:\\\\Windows")},
     NULL},
    {"EC04",
     "detection:\n    selection:\n        Path: 'C:\\Windows\\*'\n    condition: selection\n",
     0,
     {EV(0, "Path", "C:\\Windows\\System32"), EV(1, "Path", "C:\\Windows*"),
      EV(0, "Path", "C:\\Windows\\*")},
     NULL},
    {"EC05",
     "detection:\n    selection:\n        Path: 'C:\\Windows\\\\*'\n    condition: selection\n",
     0,
     {EV(1, "Path", "C:\\Windows\\System32\\cmd.exe"), EV(0, "Path", "C:\\Windows"),
      EV(1, "Path", "C:\\Windows\\")},
     NULL},
    {"EC06",
     "detection:\n    selection:\n        Path: 'C:\\Windows\\\\\\*'\n    condition: selection\n",
     0,
     {EV(1, "Path", "C:\\Windows\\*"), EV(0, "Path", "C:\\Windows\\System32")},
     NULL},
    {"EC07",
     "detection:\n    selection_start:\n        TargetFilename|startswith: 'C:\\Users\\'\n"
     "    selection_cont:\n        TargetFilename|contains: '\\AppData\\Local\\Temp\\'\n"
     "    condition: selection_start and selection_cont\n",
     0,
     {EV(1, "TargetFilename", "C:\\Users\\bob\\AppData\\Local\\Temp\\x.ps1"),
      EV(0, "TargetFilename", "C:\\Users*\\AppData\\Local\\Temp*"),
      EV(0, "TargetFilename", "C:\\Usersbob\\AppData\\Local\\Temp\\x.ps1")},
     NULL},
    {"EC08",
     "detection:\n    selection:\n        CommandLine|contains: 'net*user'\n"
     "    condition: selection\n",
     0,
     {EV(1, "CommandLine", "cmd /c net1 user admin"), EV(1, "CommandLine", "cmd /c NET USER"),
      EV(0, "CommandLine", "user net")},
     NULL},
    {"EC09",
     "detection:\n    selection:\n        EventID:\n            - 4624\n            - 4625\n"
     "        LogonType: 10\n    condition: selection\n",
     0,
     {EV(1, "EventID", "4625", "LogonType", "10"), EV(0, "EventID", "4625", "LogonType", "3"),
      EV(0, "EventID", "4634", "LogonType", "10")},
     NULL},
    {"EC10",
     "detection:\n    selection:\n        - Image|endswith: '\\sc.exe'\n"
     "        - OriginalFileName: 'sc.exe'\n    condition: selection\n",
     0,
     {EV(1, "Image", "C:\\x\\renamed.exe", "OriginalFileName", "sc.exe"),
      EV(1, "Image", "C:\\Windows\\System32\\sc.exe"),
      EV(0, "Image", "C:\\x\\renamed.exe", "OriginalFileName", "svc.exe")},
     NULL},
    {"EC11",
     "detection:\n    selection:\n        CommandLine|contains|all:\n            - ' -enc '\n"
     "            - 'bypass'\n    condition: selection\n",
     0,
     {EV(1, "CommandLine", "powershell -ep Bypass -enc AAAA"),
      EV(0, "CommandLine", "powershell -enc AAAA")},
     NULL},
    {"EC12",
     "detection:\n    selection:\n        EventID: 4688\n    condition: selection\n",
     0,
     {EV(1, "EventID", "4688"), EV(1, "EventID", "4688"), EV(0, "EventID", "46880")},
     NULL},
    {"EC13",
     "detection:\n    selection:\n        EventID: 4738\n    filter_null:\n"
     "        PasswordLastSet: null\n    condition: selection and not filter_null\n",
     0,
     {EV(1, "EventID", "4738", "PasswordLastSet", "%%1794"), EV(0, "EventID", "4738"),
      EV(0, "EventID", "4738", "PasswordLastSet", JNULL),
      EV(1, "EventID", "4738", "PasswordLastSet", "")},
     NULL},
    {"EC14",
     "detection:\n    selection:\n        OriginalFileName: ''\n    condition: selection\n",
     0,
     {EV(1, "OriginalFileName", ""), EV(0, "OriginalFileName", "x.exe"), EV(0, "Other", "y")},
     NULL},
    {"EC15",
     "detection:\n    selection:\n        EventID: 4738\n        PasswordLastSet|exists: true\n"
     "    condition: selection\n",
     0,
     {EV(1, "EventID", "4738", "PasswordLastSet", ""), EV(0, "EventID", "4738")},
     NULL},
    {"EC16",
     "detection:\n    selection_exact:\n        Payload|cased: 'IEX'\n    selection_cont:\n"
     "        CommandLine|contains|cased: 'FromBase64String'\n"
     "    condition: selection_exact or selection_cont\n",
     0,
     {EV(1, "Payload", "IEX"), EV(0, "Payload", "iex"),
      EV(0, "CommandLine", "x.frombase64string(y)"),
      EV(1, "CommandLine", "[Convert]::FromBase64String(y)")},
     NULL},
    {"EC17",
     "detection:\n    selection:\n        CommandLine|re: '\\s-O\\s'\n    condition: selection\n",
     0,
     {EV(1, "CommandLine", "wget -O out.bin http://x"),
      EV(0, "CommandLine", "wget -o out.bin http://x"), EV(0, "CommandLine", "-O ")},
     NULL},
    {"EC18",
     "detection:\n    sel_i:\n        A|re|i: '^invoke-mimikatz$'\n    sel_s:\n"
     "        B|re|s: 'begin.end'\n    sel_m:\n        C|re|m: '^second$'\n"
     "    condition: sel_i and sel_s and sel_m\n",
     0,
     {EV(1, "A", "Invoke-Mimikatz", "B", "begin\nend", "C", "first\nsecond\nthird"),
      EV(0, "A", "Invoke-Mimikatz", "B", "begin\nend", "C", "first second"),
      EV(0, "A", "xInvoke-Mimikatz", "B", "begin\nend", "C", "first\nsecond")},
     NULL},
    {"EC19",
     "detection:\n    selection:\n        B|re: 'begin.end'\n    condition: selection\n",
     0,
     {EV(0, "B", "begin\nend"), EV(1, "B", "beginXend")},
     NULL},
    {"EC20",
     "detection:\n    selection:\n        CommandLine|windash|contains: ' -param-name '\n"
     "    condition: selection\n",
     0,
     {EV(1, "CommandLine", "tool.exe /param-name x"),
      EV(1, "CommandLine", "tool.exe \xe2\x80\x93param-name x"),
      EV(0, "CommandLine", "tool.exe -param/name x"),
      EV(1, "CommandLine", "tool.exe \xe2\x80\x94param-name x")},
     NULL},
    {"EC21",
     "detection:\n    selection:\n        CommandLine|windash|contains|all:\n"
     "            - '-foo'\n            - '-bar'\n    condition: selection\n",
     0,
     {EV(1, "CommandLine", "x.exe /foo -bar"), EV(0, "CommandLine", "x.exe /foo")},
     NULL},
    {"EC22",
     "detection:\n    selection:\n        CommandLine|base64offset|contains: 'foobar'\n"
     "    condition: selection\n",
     0,
     {EV(1, "CommandLine", "powershell -enc Zm9vYmFy"),
      EV(1, "CommandLine", "powershell -enc eGZvb2Jhcg=="),
      EV(1, "CommandLine", "powershell -enc eHhmb29iYXI="),
      EV(0, "CommandLine", "powershell -enc foobar")},
     NULL},
    {"EC23",
     "detection:\n    selection:\n        Data|base64: 'foobar'\n    condition: selection\n",
     0,
     {EV(1, "Data", "Zm9vYmFy"), EV(0, "Data", "xZm9vYmFyx"), EV(1, "Data", "zm9vymfy")},
     NULL},
    {"EC24",
     "detection:\n    selection:\n        CommandLine|wide|base64offset|contains: 'whoami'\n"
     "    condition: selection\n",
     0,
     {EV(1, "CommandLine", "powershell -e dwBoAG8AYQBtAGkA"),
      EV(0, "CommandLine", "powershell -e d2hvYW1p")},
     NULL},
    {"EC25",
     "detection:\n    selection:\n        DestinationIp|cidr:\n            - '10.0.0.0/8'\n"
     "            - 'fe80::/10'\n            - '::1/128'\n    condition: selection\n",
     0,
     {EV(1, "DestinationIp", "10.20.30.40"), EV(0, "DestinationIp", "11.0.0.1"),
      EV(1, "DestinationIp", "FE80::1c2d:3e4f"), EV(1, "DestinationIp", "::1"),
      EV(0, "DestinationIp", "-")},
     NULL},
    {"EC26",
     "detection:\n    selection:\n        Size|gt: 1000\n        Size|lte: 5000\n"
     "    condition: selection\n",
     0,
     {EV(1, "Size", "1001"), EV(1, "Size", "5000"), EV(0, "Size", "1000"), EV(0, "Size", "big")},
     NULL},
    {"EC27",
     "detection:\n    selection:\n        EventID: 4624\n        TargetUserName|fieldref: "
     "SubjectUserName\n    condition: selection\n",
     0,
     {EV(1, "EventID", "4624", "TargetUserName", "alice", "SubjectUserName", "alice"),
      EV(0, "EventID", "4624", "TargetUserName", "alice", "SubjectUserName", "bob"),
      EV(0, "EventID", "4624", "TargetUserName", "alice")},
     NULL},
    {"EC28",
     "detection:\n    keywords:\n        - 'dpapi::masterkey'\n        - "
     "'sekurlsa::logonpasswords'\n"
     "    condition: keywords\n",
     0,
     {EV(1, "ScriptBlockText", "Invoke-Mimikatz -Command \"sekurlsa::logonpasswords exit\""),
      EV(0, "Data", "nothing here")},
     NULL},
    {"EC29",
     "detection:\n    keywords_cmdlet:\n        '|all':\n            - 'OabVirtualDirectory'\n"
     "            - ' -ExternalUrl '\n    condition: keywords_cmdlet\n",
     0,
     {EV(1, "Payload", "Set-OabVirtualDirectory -ExternalUrl http://x"),
      EV(0, "Payload", "Set-OabVirtualDirectory -InternalUrl http://x")},
     NULL},
    {"EC30",
     "detection:\n    a:\n        A: 1\n    b:\n        B: 1\n    c:\n        C: 1\n"
     "    condition: a or not b and c\n",
     0,
     {EV(1, "A", "1", "B", "1", "C", "0"), EV(1, "A", "0", "B", "0", "C", "1"),
      EV(0, "A", "0", "B", "1", "C", "1"), EV(0, "A", "0", "B", "0", "C", "0")},
     NULL},
    {"EC31",
     "detection:\n    selection_img:\n        Image|endswith: '\\sc.exe'\n    selection_cli:\n"
     "        CommandLine|contains: ' stop '\n    _helper:\n        User: 'SYSTEM'\n"
     "    condition: all of them\n",
     0,
     {EV(1, "Image", "C:\\Windows\\System32\\sc.exe", "CommandLine", "sc stop x", "User", "bob"),
      EV(0, "Image", "C:\\Windows\\System32\\sc.exe", "CommandLine", "sc start x", "User",
         "SYSTEM")},
     NULL},
    {"EC32",
     "detection:\n    selection:\n        EventID: 1\n        User|neq: 'NT AUTHORITY\\SYSTEM'\n"
     "    condition: selection\n",
     0,
     {EV(1, "EventID", "1", "User", "CORP\\bob"),
      EV(0, "EventID", "1", "User", "nt authority\\system"), EV(1, "EventID", "1")},
     NULL},
    {"EC33",
     "detection:\n    sel1:\n        A: 1\n    sel2:\n        B: 1\n    condition:\n"
     "        - sel1\n        - sel2\n",
     0,
     {EV(1, "A", "1"), EV(1, "B", "1"), EV(0, "A", "2", "B", "2")},
     NULL},
    {"EC34",
     "detection:\n    selection:\n        EventID: 3\n        Initiated: true\n"
     "    condition: selection\n",
     0,
     {EV(1, "EventID", "3", "Initiated", "true"), EV(0, "EventID", "3", "Initiated", "false")},
     NULL},
    {"EC35",
     "detection:\n    selection:\n        EventID: 1119\n        SourceName: 'Real-Time "
     "Protection'\n"
     "    condition: selection\n",
     0,
     {EV(1, "EventID", "1119", "Source Name", "Real-Time Protection")},
     NULL},
    /* C. load-time refusals */
    {"R1",
     "detection:\n    sel:\n        A|base64: 'foo*bar'\n    condition: sel\n",
     1,
     {{0}},
     NULL},
    {"R1b",
     "detection:\n    sel:\n        A|base64offset: 'foo*bar'\n    condition: sel\n",
     1,
     {{0}},
     NULL},
    {"R2",
     "detection:\n    sel:\n        A|base64|re: 'foo'\n    condition: sel\n",
     1,
     {{0}},
     NULL},
    {"R3",
     "detection:\n    sel:\n        A|cidr: '192.168.1.1/24'\n    condition: sel\n",
     1,
     {{0}},
     NULL},
    {"R4", "detection:\n    sel:\n        '|exists': true\n    condition: sel\n", 1, {{0}}, NULL},
    {"R5", "detection:\n    sel:\n        A|fieldref: 'B*'\n    condition: sel\n", 1, {{0}}, NULL},
    {"R6", "detection:\n    sel:\n        A|gt: 'abc'\n    condition: sel\n", 1, {{0}}, NULL},
    {"R7", "detection:\n    sel:\n        A|foo: 'x'\n    condition: sel\n", 1, {{0}}, NULL},
    {"R8", "detection:\n    sel:\n        A: 'x'\n    condition: sel and other\n", 1, {{0}}, NULL},
    {"R9",
     "detection:\n    sel:\n        A: 'x'\n    condition: sel | count() by B > 5\n",
     1,
     {{0}},
     NULL},
    {"R10",
     "detection:\n    sel:\n        A: 'x'\n    sel2:\n        B: 'y'\n"
     "    condition: sel AND sel2\n",
     1,
     {{0}},
     NULL},
    {"R11",
     "detection:\n    sel:\n        A|wide: 'f\xc3\xb6\xc3\xb6"
     "bar'\n    condition: sel\n",
     1,
     {{0}},
     NULL},
    {"R12",
     "detection:\n    selection:\n        A: 'x'\n    selection:\n        A: 'y'\n"
     "    condition: selection\n",
     1,
     {{0}},
     NULL},
    {"R13",
     "detection:\n    sel:\n        A|re: '(unclosed'\n    condition: sel\n",
     1,
     {{0}},
     NULL},
    {"R14",
     "detection:\n    sel:\n        A|expand: '%Admins%'\n    condition: sel\n",
     1,
     {{0}},
     NULL},
};

static char *wrap_rule(const char *det)
{
    const char *head = "title: t\nlogsource:\n    product: windows\n";
    size_t n = strlen(head) + strlen(det) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s", head, det);
    return s;
}

static struct sigma_rule *load_det(const char *det, const struct sigma_load_opts *opts,
                                   struct sigma_err *err)
{
    char *y = wrap_rule(det);
    struct sigma_rule *r = NULL;
    int rc = sigma_load_buf(y, strlen(y), "test.yml", opts, &r, err);
    free(y);
    return rc == 0 ? r : NULL;
}

static int eval_kv(const struct sigma_rule *r, const char *const *kv, const char *raw)
{
    struct arena a;
    struct event ev;
    arena_init(&a, 0);
    event_init(&ev, &a, raw ? raw : "", raw ? strlen(raw) : 0, 0);
    for (size_t i = 0; kv[i] && kv[i + 1]; i += 2) {
        if (kv[i + 1] == JNULL)
            continue;
        assert_int_equal(event_add_named(&ev, kv[i], strlen(kv[i]), kv[i + 1], strlen(kv[i + 1])),
                         0);
    }
    int m = sigma_eval(r, &ev);
    event_reset(&ev);
    arena_done(&a);
    return m;
}

static void test_edge_cases(void **state)
{
    (void)state;
    size_t ncases = sizeof(edge_cases) / sizeof(edge_cases[0]), nrows = 0, passed = 0, gaps = 0,
           failed = 0;
    for (size_t i = 0; i < ncases; i++) {
        const struct tcase *c = &edge_cases[i];
        struct sigma_err err;
        struct sigma_rule *r = load_det(c->det, NULL, &err);
        int ok = 1;
        if (c->refuse) {
            nrows++;
            ok = r == NULL && err.at.msg != NULL && err.at.line > 0;
            if (!r)
                printf("  %-5s refused: %u:%u: %s\n", c->id, err.at.line, err.at.col, err.reason);
        } else if (!r) {
            printf("  %-5s FAILED to load: %u:%u: %s\n", c->id, err.at.line, err.at.col,
                   err.reason);
            ok = 0;
            for (size_t e = 0; e < 6 && c->ev[e].kv[0]; e++)
                nrows++;
        } else {
            for (size_t e = 0; e < 6 && c->ev[e].kv[0]; e++) {
                nrows++;
                int m = eval_kv(r, c->ev[e].kv, NULL);
                if (m != c->ev[e].match) {
                    printf("  %-5s row %zu: got %d, want %d\n", c->id, e + 1, m, c->ev[e].match);
                    ok = 0;
                }
            }
        }
        sigma_rule_free(r);
        if (ok)
            passed++;
        else if (c->gap)
            gaps++, printf("  %-5s known gap: %s\n", c->id, c->gap);
        else
            failed++;
    }
    printf("EDGE_CASES: %zu cases (%zu rows): %zu passed, %zu known gaps, %zu failed\n", ncases,
           nrows, passed, gaps, failed);
    assert_int_equal(failed, 0);
}

/* ---- (2) modifiers and conditions ---- */

struct mcase {
    const char *det;
    const char *field, *value;
    int match;
};

static const struct mcase mod_cases[] = {
    /* escaping */
    {"        F: 'a\\*b'\n", "F", "a*b", 1},
    {"        F: 'a\\*b'\n", "F", "axxb", 0},
    {"        F: 'a\\?b'\n", "F", "a?b", 1},
    {"        F: 'a\\?b'\n", "F", "axb", 0},
    {"        F: 'a?b'\n", "F", "axb", 1},
    {"        F: 'a?b'\n", "F",
     "a\xc3\xa9"
     "b",
     1}, /* ? is one UTF-8 character */
    {"        F: 'a\\\\b'\n", "F", "a\\b", 1},
    {"        F: 'a\\\\\\\\b'\n", "F", "a\\\\b", 1},
    {"        F: 'foo\\'\n", "F", "foo\\", 1},
    {"        F: \"C:\\\\x\\\\*\"\n", "F", "C:\\x*", 1}, /* YAML "\\" is one backslash first */
    /* case */
    {"        F: 'ABC'\n", "F", "abc", 1},
    {"        F|cased: 'ABC'\n", "F", "abc", 0},
    {"        F|cased: 'ABC'\n", "F", "ABC", 1},
    {"        F|startswith|cased: 'AB'\n", "F", "ABx", 1},
    {"        F|startswith|cased: 'AB'\n", "F", "abx", 0},
    {"        F|endswith: 'XE'\n", "F", "a.exf", 0},
    {"        F|endswith: 'XE'\n", "F", "a.xe", 1},
    /* re flags */
    {"        F|re: 'a.c'\n", "F", "xxabcxx", 1},
    {"        F|re: 'ABC'\n", "F", "abc", 0},
    {"        F|re|i: 'ABC'\n", "F", "abc", 1},
    {"        F|re: '(?i)ABC'\n", "F", "abc", 1},
    {"        F|re|m: '^b$'\n", "F", "a\nb\nc", 1},
    {"        F|re: '^b$'\n", "F", "a\nb\nc", 0},
    {"        F|re|s: 'a.b'\n", "F", "a\nb", 1},
    {"        F|re: 'a\\*'\n", "F", "a*", 1}, /* regex text is verbatim */
    /* cidr */
    {"        F|cidr: '2001:db8::/32'\n", "F", "2001:db8:1::5", 1},
    {"        F|cidr: '2001:db8::/32'\n", "F", "2001:db9::5", 0},
    {"        F|cidr: '2001:db8::/33'\n", "F", "2001:db8:8000::1", 0},
    {"        F|cidr: '192.168.0.0/23'\n", "F", "192.168.1.200", 1},
    {"        F|cidr: '192.168.0.0/23'\n", "F", "192.168.2.1", 0},
    {"        F|cidr: '192.168.0.0/16'\n", "F", "fe80::1", 0},
    {"        F|cidr: '1.2.3.4'\n", "F", "1.2.3.4", 1},
    /* base64offset at all three offsets (values from the encoding itself) */
    {"        F|base64offset|contains: 'http'\n", "F", "aHR0cA", 1},   /* offset 0 */
    {"        F|base64offset|contains: 'http'\n", "F", "eGh0dHA=", 1}, /* "xhttp" */
    {"        F|base64offset|contains: 'http'\n", "F", "eHhodHRw", 1}, /* "xxhttp" */
    {"        F|base64offset|contains: 'http'\n", "F", "aHRTcA", 0},
    {"        F|base64: 'a'\n", "F", "YQ==", 1},
    /* utf16 family */
    {"        F|utf16le|base64: 'ab'\n", "F", "YQBiAA==", 1},
    {"        F|utf16be|base64: 'ab'\n", "F", "AGEAYg==", 1},
    {"        F|utf16|base64: 'ab'\n", "F", "//5hAGIA", 1},
    {"        F|utf16le|base64: '\xc3\xa9'\n", "F", "6QA=", 1},
    /* windash: every dash character */
    {"        F|windash|contains: ' -x'\n", "F", "a -x", 1},
    {"        F|windash|contains: ' -x'\n", "F", "a /x", 1},
    {"        F|windash|contains: ' -x'\n", "F", "a \xe2\x80\x93x", 1},
    {"        F|windash|contains: ' -x'\n", "F", "a \xe2\x80\x94x", 1},
    {"        F|windash|contains: ' -x'\n", "F", "a \xe2\x80\x95x", 1},
    {"        F|windash|contains: ' -x'\n", "F", "a _x", 0},
    {"        F|windash|contains: ' /x -y'\n", "F", "a -x /y", 1}, /* both dashes vary */
    /* all with contains */
    {"        F|contains|all: ['a1', 'b2']\n", "F", "b2 a1", 1},
    {"        F|contains|all: ['a1', 'b2']\n", "F", "b2 a", 0},
    {"        F|contains: ['a1', 'b2']\n", "F", "b2 a", 1},
    /* exists, null */
    {"        F|exists: false\n", "G", "x", 1},
    {"        F|exists: false\n", "F", "", 0},
    {"        F|exists: yes\n", "F", "", 1},
    {"        F: null\n", "G", "x", 1},
    {"        F: null\n", "F", "", 0},
    {"        F:\n", "G", "x", 1},
    {"        F: []\n", "G", "x", 1},
    /* numbers, comparisons */
    {"        F|gte: 10\n", "F", "10", 1},
    {"        F|lt: 10\n", "F", "9.5", 1},
    {"        F|lt: 10\n", "F", "0x5", 0},
    {"        F|gt: -1\n", "F", "", 0},
    {"        F: 10\n", "F", "10.0", 1},
    /* fieldref modes */
    {"        F|fieldref|contains: F\n", "F", "same", 1},
    /* keywords: implicit substring, wildcards inside */
    {"        - 'ev*il'\n", "X", "an evXil thing", 1},
    {"        - 'EVIL'\n", "X", "not so evil", 1},
    {"        - 'evil'\n", "X", "good", 0},
};

static void test_modifiers(void **state)
{
    (void)state;
    size_t n = sizeof(mod_cases) / sizeof(mod_cases[0]);
    for (size_t i = 0; i < n; i++) {
        const struct mcase *c = &mod_cases[i];
        char det[512];
        snprintf(det, sizeof(det), "detection:\n    sel:\n%s    condition: sel\n", c->det);
        struct sigma_err err;
        struct sigma_rule *r = load_det(det, NULL, &err);
        if (!r)
            fail_msg("case %zu (%s) refused: %s", i, c->det, err.reason);
        const char *kv[] = {c->field, c->value, NULL};
        int m = eval_kv(r, kv, NULL);
        if (m != c->match)
            fail_msg("case %zu: %s on %s=%s: got %d want %d", i, c->det, c->field, c->value, m,
                     c->match);
        sigma_rule_free(r);
    }
    printf("modifier cases: %zu passed\n", n);
}

static void test_multi_value_and_raw(void **state)
{
    (void)state;
    struct sigma_err err;
    struct sigma_rule *r =
        load_det("detection:\n    sel:\n        F: 'b'\n    condition: sel\n", NULL, &err);
    assert_non_null(r);
    const char *kv[] = {"F", "a", "F", "b", NULL};
    assert_int_equal(eval_kv(r, kv, NULL), 1); /* any value of a repeated field */
    sigma_rule_free(r);
    r = load_det("detection:\n    kw:\n        - 'sshd'\n    condition: kw\n", NULL, &err);
    assert_non_null(r);
    const char *none[] = {"message", "x", NULL};
    assert_int_equal(eval_kv(r, none, "Jan  1 host sshd[1]: x"), 1); /* raw line */
    assert_int_equal(eval_kv(r, none, "Jan  1 host cron[1]: x"), 0);
    sigma_rule_free(r);
}

static void test_expand(void **state)
{
    (void)state;
    static const char *const admins[] = {"root", "adm_*"};
    static const struct sigma_placeholder ph[] = {{"Admins", admins, 2}};
    struct sigma_load_opts opts = {ph, 1};
    struct sigma_err err;
    struct sigma_rule *r =
        load_det("detection:\n    sel:\n        U|expand: 'x\\%%Admins%'\n    condition: sel\n",
                 &opts, &err);
    if (!r)
        fail_msg("expand refused: %s", err.reason);
    const char *a[] = {"U", "x%root", NULL}, *b[] = {"U", "x%adm_bob", NULL},
               *c[] = {"U", "x%bob", NULL};
    assert_int_equal(eval_kv(r, a, NULL), 1);
    assert_int_equal(eval_kv(r, b, NULL), 1);
    assert_int_equal(eval_kv(r, c, NULL), 0);
    sigma_rule_free(r);
    r = load_det("detection:\n    sel:\n        U|expand: '%Other%'\n    condition: sel\n", &opts,
                 &err);
    assert_null(r);
    assert_string_equal(err.at.msg, "unknown placeholder");
    assert_int_equal(err.at.line, 6);
}

struct ccase {
    const char *cond;
    int a, b, c, filter_x; /* which identifiers match */
    int match;
};

static void test_conditions(void **state)
{
    (void)state;
    static const struct ccase cc[] = {
        {"a and b or c", 0, 0, 1, 0, 1},
        {"a and (b or c)", 0, 0, 1, 0, 0},
        {"not a and b", 0, 1, 0, 0, 1},
        {"not (a and b)", 1, 1, 0, 0, 0},
        {"not not a", 1, 0, 0, 0, 1},
        {"1 of a*", 0, 0, 0, 0, 0},
        {"all of them", 1, 1, 1, 1, 1},
        {"all of them", 1, 1, 1, 0, 0},
        {"1 of them", 0, 0, 0, 1, 1},
        {"any of filter_*", 0, 0, 0, 1, 1},
        {"a and not 1 of filter_*", 1, 0, 0, 1, 0},
        {"a and not 1 of filter_*", 1, 0, 0, 0, 1},
        {"a and not 1 of nomatch_*", 1, 0, 0, 1, 1}, /* empty pattern: neutral */
        {"all of nomatch_*", 0, 0, 0, 0, 1},
        {"1 of *x", 0, 0, 0, 1, 1},
        {"(a or b) and (c or filter_x)", 0, 1, 0, 1, 1},
        {"a or b and c", 1, 0, 0, 0, 1},
        {"( ( a ) )", 1, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof(cc) / sizeof(cc[0]); i++) {
        char det[512];
        snprintf(det, sizeof(det),
                 "detection:\n    a:\n        A: 1\n    b:\n        B: 1\n    c:\n        C: 1\n"
                 "    filter_x:\n        X: 1\n    condition: '%s'\n",
                 cc[i].cond);
        struct sigma_err err;
        struct sigma_rule *r = load_det(det, NULL, &err);
        if (!r)
            fail_msg("condition '%s' refused: %s", cc[i].cond, err.reason);
        const char *kv[] = {"A", cc[i].a ? "1" : "0", "B", cc[i].b ? "1" : "0",
                            "C", cc[i].c ? "1" : "0", "X", cc[i].filter_x ? "1" : "0",
                            NULL};
        if (eval_kv(r, kv, NULL) != cc[i].match)
            fail_msg("condition '%s' (a=%d b=%d c=%d x=%d) want %d", cc[i].cond, cc[i].a, cc[i].b,
                     cc[i].c, cc[i].filter_x, cc[i].match);
        sigma_rule_free(r);
    }
}

static void test_cond_errors(void **state)
{
    (void)state;
    static const struct {
        const char *cond;
        unsigned col; /* column in the condition string, 1-based */
    } bad[] = {
        {"a and nope", 7}, {"a and", 6},  {"(a", 3},      {"a)", 2},    {"not", 4},
        {"1 of", 5},       {"2 of a", 1}, {"a AND b", 3}, {"a | b", 3}, {"a or or b", 6},
        {"", 1},           {"a b", 3},    {"all a", 5},
    };
    char *names[] = {"a", "b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sigma_cond *c = NULL;
        struct parse_err pe = {0};
        char reason[200];
        int rc = sigma_cond_parse(bad[i].cond, strlen(bad[i].cond), names, 2, &c, NULL, &pe, reason,
                                  sizeof(reason));
        if (rc != -EINVAL)
            fail_msg("'%s' accepted", bad[i].cond);
        if (pe.col != bad[i].col)
            fail_msg("'%s': column %u, want %u (%s)", bad[i].cond, pe.col, bad[i].col, reason);
        assert_null(c);
    }
    /* the loader reports the condition's own line and column */
    struct sigma_err err;
    struct sigma_rule *r =
        load_det("detection:\n    sel:\n        A: 1\n    condition: sel and other\n", NULL, &err);
    assert_null(r);
    assert_int_equal(err.at.line, 7);
    assert_int_equal(err.at.col, 16 + 8);
    assert_string_equal(err.at.msg, "unknown search identifier");
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        A: 1\n"
        "    condition: s\n---\ntitle: u\n",
        "title: c\ncorrelation:\n    type: event_count\n",
        "title: f\nlogsource:\n    product: x\nfilter:\n    rules: [a]\n",
        "logsource:\n    product: x\ndetection:\n    s:\n        A: 1\n    condition: s\n",
        "title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        A|hour: 1\n"
        "    condition: s\n",
        "title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        A: 1\n",
        "title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        A: [1, null]\n"
        "    condition: s\n",
        "title: t\n  bad: [\n",
        "",
        "title: t\nlogsource:\n    product: x\nlevel: severe\ndetection:\n    s:\n        A: 1\n"
        "    condition: s\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sigma_rule *r = NULL;
        struct sigma_err err;
        int rc = sigma_load_buf(bad[i], strlen(bad[i]), "x.yml", NULL, &r, &err);
        if (rc != -EINVAL || r)
            fail_msg("input %zu accepted", i);
        assert_non_null(err.at.msg);
    }
}

static void test_metadata(void **state)
{
    (void)state;
    const char *y = "title: Whoami\nid: 0b0c-1\nstatus: test\nauthor: A, B\ndate: 2024-01-02\n"
                    "level: high\ntags:\n    - attack.t1033\n    - attack.discovery\n"
                    "references:\n    - https://x\nfalsepositives:\n    - Admins\n"
                    "logsource:\n    category: process_creation\n    product: windows\n"
                    "detection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n"
                    "    condition: sel\n";
    struct sigma_rule *r = NULL;
    struct sigma_err err;
    assert_int_equal(sigma_load_buf(y, strlen(y), "m.yml", NULL, &r, &err), 0);
    assert_string_equal(r->title, "Whoami");
    assert_string_equal(r->id, "0b0c-1");
    assert_string_equal(r->author, "A, B");
    assert_string_equal(r->date, "2024-01-02");
    assert_int_equal(r->level, SIGMA_LEVEL_HIGH);
    assert_int_equal(r->tags.n, 2);
    assert_string_equal(r->tags.v[1], "attack.discovery");
    assert_string_equal(r->category, "process_creation");
    assert_string_equal(r->product, "windows");
    assert_null(r->service);
    assert_int_equal(r->nsearches, 1);
    unsigned char m[1];
    struct arena a;
    struct event ev;
    arena_init(&a, 0);
    event_init(&ev, &a, "", 0, 0);
    assert_int_equal(event_add_named(&ev, "Image", 5, "C:\\w\\whoami.exe", 15), 0);
    assert_int_equal(sigma_eval_explain(r, &ev, m), 1);
    assert_int_equal(m[0], 1);
    event_reset(&ev);
    arena_done(&a);
    sigma_rule_free(r);
}

/* ---- filter rules (Sigma filters specification) ---- */

static const char filter_yaml[] =
    "title: Filter admin accounts\n"
    "id: 9d6c1f2e-0000-4000-8000-00000000f001\n"
    "description: adm_ accounts run these tools by design\n"
    "logsource:\n    product: windows\n    category: process_creation\n"
    "filter:\n"
    "    rules:\n        - 0b0c-1\n        - whoami_by_name\n"
    "    selection:\n        User|startswith: 'adm_'\n"
    "    condition: not selection\n";

static const char filtered_rule_yaml[] =
    "title: Whoami\nid: 0b0c-1\nname: whoami_by_name\n"
    "logsource:\n    category: process_creation\n    product: windows\n"
    "detection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: sel\n";

static struct sigma_rule *load_one_rule(const char *y)
{
    struct sigma_rule *r = NULL;
    struct sigma_err err;

    if (sigma_load_buf(y, strlen(y), "r.yml", NULL, &r, &err) < 0)
        fail_msg("rule refused: %s", err.reason);
    return r;
}

static void test_filter_load_and_apply(void **state)
{
    (void)state;
    struct sigma_doc *docs = NULL;
    struct sigma_err err;
    size_t n = 0;
    struct arena a;
    struct event ev;

    assert_int_equal(sigma_load_docs_buf(filter_yaml, strlen(filter_yaml), "mf.yml", NULL, &docs,
                                         &n, &err),
                     0);
    assert_int_equal(n, 1);
    assert_null(docs[0].rule);
    assert_null(docs[0].corr);
    const struct sigma_filter *f = docs[0].filter;
    assert_non_null(f);
    assert_string_equal(f->det->title, "Filter admin accounts");
    assert_string_equal(f->det->product, "windows");
    assert_int_equal(f->rules.n, 2);
    assert_string_equal(f->rules.v[1], "whoami_by_name");
    assert_int_equal(f->det->nsearches, 1); /* `rules` is not a search identifier */
    assert_false(sigma_filter_is_inclusive(f));

    /* Applies to the rule by id and by name, not to another rule, and not
     * when the rule's log source is outside the filter's. */
    struct sigma_rule *r = load_one_rule(filtered_rule_yaml);
    assert_true(sigma_filter_applies(f, r));
    free(r->id);
    r->id = NULL;
    assert_true(sigma_filter_applies(f, r)); /* by name */
    free(r->name);
    r->name = strdup("other");
    assert_false(sigma_filter_applies(f, r));
    sigma_rule_free(r);
    r = load_one_rule(filtered_rule_yaml);
    free(r->category);
    r->category = strdup("image_load");
    assert_false(sigma_filter_applies(f, r)); /* the filter names process_creation */
    free(r->category);
    r->category = NULL;
    assert_false(sigma_filter_applies(f, r)); /* the rule has no category at all */
    sigma_rule_free(r);

    /* (rule) and (filter): an adm_ user's match is removed, others kept. */
    arena_init(&a, 0);
    event_init(&ev, &a, "", 0, 0);
    assert_int_equal(event_add_named(&ev, "User", 4, "adm_carol", 9), 0);
    assert_int_equal(sigma_filter_keeps(f, &ev), 0);
    event_reset(&ev);
    event_init(&ev, &a, "", 0, 0);
    assert_int_equal(event_add_named(&ev, "User", 4, "carol", 5), 0);
    assert_int_equal(sigma_filter_keeps(f, &ev), 1);
    event_reset(&ev);
    arena_done(&a);
    sigma_docs_free(docs, n);
}

/* A filter whose log source sets fewer attributes contains more rules. */
static void test_filter_wider_logsource(void **state)
{
    (void)state;
    static const char y[] = "title: Filter host\nlogsource:\n    product: windows\nfilter:\n"
                            "    rules: 0b0c-1\n    host:\n        Computer: build-1\n"
                            "    condition: not host\n";
    struct sigma_doc *docs = NULL;
    struct sigma_err err;
    size_t n = 0;

    assert_int_equal(sigma_load_docs_buf(y, strlen(y), "mf.yml", NULL, &docs, &n, &err), 0);
    assert_non_null(docs[0].filter);
    assert_int_equal(docs[0].filter->rules.n, 1); /* one string tolerated for a list */
    struct sigma_rule *r = load_one_rule(filtered_rule_yaml);
    assert_true(sigma_filter_applies(docs[0].filter, r));
    sigma_rule_free(r);
    sigma_docs_free(docs, n);
}

/* A rule file may carry the rule and its filter, as correlations do. */
static void test_filter_in_multidoc_file(void **state)
{
    (void)state;
    char y[2048];
    struct sigma_doc *docs = NULL;
    struct sigma_err err;
    size_t n = 0;

    snprintf(y, sizeof(y), "%s---\n%s", filtered_rule_yaml, filter_yaml);
    assert_int_equal(sigma_load_docs_buf(y, strlen(y), "both.yml", NULL, &docs, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_non_null(docs[0].rule);
    assert_non_null(docs[1].filter);
    assert_true(sigma_filter_applies(docs[1].filter, docs[0].rule));
    sigma_docs_free(docs, n);
}

static void test_filter_inclusive_flagged(void **state)
{
    (void)state;
    /* The specification's own example: `condition: selection`. */
    static const char y[] = "title: Filter spec example\nlogsource:\n    product: windows\n"
                            "filter:\n    rules: [a]\n    selection:\n        User: x\n"
                            "    condition: selection\n";
    struct sigma_doc *docs = NULL;
    struct sigma_err err;
    size_t n = 0;

    assert_int_equal(sigma_load_docs_buf(y, strlen(y), "mf.yml", NULL, &docs, &n, &err), 0);
    assert_true(sigma_filter_is_inclusive(docs[0].filter));
    sigma_docs_free(docs, n);
}

static void test_filter_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *y;
        const char *why; /* a word of the reason */
    } bad[] = {
        {"title: f\nlogsource:\n    product: x\nfilter:\n    s:\n        A: 1\n"
         "    condition: not s\n",
         "rules"},
        {"title: f\nlogsource:\n    product: x\nfilter:\n    rules: []\n    s:\n        A: 1\n"
         "    condition: not s\n",
         "at least one"},
        {"title: f\nlogsource:\n    product: x\nfilter:\n    rules: ['']\n    s:\n"
         "        A: 1\n    condition: not s\n",
         "empty"},
        {"title: f\nlogsource:\n    product: x\nfilter:\n    rules: [a]\n    condition: x\n",
         "condition"},
        {"title: f\nlogsource:\n    product: x\nfilter:\n    rules: [a]\n    s:\n        A: 1\n",
         "condition"},
        {"title: f\nlogsource:\n    product: x\nfilter:\n    rules: [a]\n    s:\n        A: 1\n"
         "    condition: not t\n",
         "condition"},
        {"title: f\nlogsource:\n    product: x\nfilter: [a]\n", "filter"},
        {"title: f\nfilter:\n    rules: [a]\n    s:\n        A: 1\n    condition: not s\n",
         "logsource"},
        {"logsource:\n    product: x\nfilter:\n    rules: [a]\n    s:\n        A: 1\n"
         "    condition: not s\n",
         "title"},
        {"title: f\nlogsource:\n    product: x\nfilter:\n    rules: [a]\n    s:\n"
         "        A|nosuchmod: 1\n    condition: not s\n",
         "nosuchmod"},
        {"title: f\nlogsource:\n    product: x\nfilter:\n    rules: [a]\n    rules: [b]\n"
         "    s:\n        A: 1\n    condition: not s\n",
         "uplicate"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sigma_doc *docs = NULL;
        struct sigma_err err;
        size_t n = 0;
        int rc = sigma_load_docs_buf(bad[i].y, strlen(bad[i].y), "mf.yml", NULL, &docs, &n, &err);
        if (rc != -EINVAL || docs)
            fail_msg("filter %zu accepted", i);
        if (!strstr(err.reason, bad[i].why))
            fail_msg("filter %zu: reason '%s' does not say '%s'", i, err.reason, bad[i].why);
        assert_true(err.at.line >= 1);
    }
}

/* ---- (3) the SigmaHQ tree ---- */

#define MAX_REASONS 64
struct tally {
    size_t files, loaded, refused;
    const char *reason[MAX_REASONS];
    size_t count[MAX_REASONS];
    char example[MAX_REASONS][320];
};

static void tally_refusal(struct tally *t, const char *path, const struct sigma_err *e)
{
    const char *cat = e->at.msg ? e->at.msg : "(no reason)";
    size_t i;
    for (i = 0; i < MAX_REASONS && t->reason[i]; i++)
        if (strcmp(t->reason[i], cat) == 0)
            break;
    if (i == MAX_REASONS)
        i = MAX_REASONS - 1;
    if (!t->reason[i]) {
        t->reason[i] = cat;
        const char *base = strrchr(path, '/');
        snprintf(t->example[i], sizeof(t->example[i]), "%.80s:%u:%u: %.200s",
                 base ? base + 1 : path, e->at.line, e->at.col, e->reason);
    }
    t->count[i]++;
}

static void walk(const char *dir, const struct sigma_load_opts *opts, struct tally *t)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, opts, t);
            continue;
        }
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".yml") != 0)
            continue;
        struct sigma_rule *r = NULL;
        struct sigma_err err;
        t->files++;
        if (sigma_load_file(path, opts, &r, &err) == 0) {
            t->loaded++;
            sigma_rule_free(r);
        } else {
            t->refused++;
            tally_refusal(t, path, &err);
        }
    }
    closedir(d);
}

static struct tally *load_tree(const char *sub, const struct sigma_load_opts *opts)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/sigma/%s", sigma_testlib_shared_dir(), sub);
    struct tally *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    walk(dir, opts, t);
    printf("SigmaHQ %s/: %zu files, %zu loaded, %zu refused\n", sub, t->files, t->loaded,
           t->refused);
    for (size_t i = 0; i < MAX_REASONS && t->reason[i]; i++)
        printf("  %5zu  %s   e.g. %s\n", t->count[i], t->reason[i], t->example[i]);
    return t;
}

static void test_sigmahq_tree(void **state)
{
    (void)state;
    /* rules/ is SigmaHQ's CI-checked main set: every construct in it is
     * defined by the specification (correlations, placeholders and the old
     * aggregations live in other folders), so every rule must load. */
    struct tally *t = load_tree("rules", NULL);
    assert_true(t->files >= 3000);
    assert_int_equal(t->refused, 0);
    free(t);
    /* The other trees: reported, and each must at least be walked without
     * a crash; the refusals are listed with their reasons. */
    static const char *const others[] = {"rules-emerging-threats", "rules-threat-hunting",
                                         "rules-compliance", "deprecated", "unsupported"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        t = load_tree(others[i], NULL);
        assert_true(t->files > 0);
        free(t);
    }
    /* rules-placeholder/ needs `expand`: refused without a table, all
     * loaded with one naming every placeholder the tree uses. */
    t = load_tree("rules-placeholder", NULL);
    assert_true(t->refused > 0);
    free(t);
    static const char *const vals[] = {"value_a", "value_b*"};
    /* Every placeholder name used under rules-placeholder/. */
    static const struct sigma_placeholder ph[] = {
        {"Administrators", vals, 2},        {"Admins_Workstations", vals, 2},
        {"ApprovedUserUpn", vals, 2},       {"Approved_Inviters", vals, 2},
        {"DomainControllers", vals, 2},     {"HomeTenantID", vals, 2},
        {"Important_AppIds", vals, 2},      {"KNOWN_LOCATION", vals, 2},
        {"Known_Location", vals, 2},        {"Legitimate_Countries", vals, 2},
        {"Legitimate_IP_Ranges", vals, 2},  {"ServerSystems", vals, 2},
        {"UnApprovedDevice", vals, 2},      {"UnApprovedIp", vals, 2},
        {"UnLegitCountries", vals, 2},      {"Workstations", vals, 2},
        {"DC-MACHINE-NAME", vals, 2},       {"dc_ip_addresses", vals, 2},
        {"dc_machine_accounts", vals, 2},   {"domain_controller_hostnames", vals, 2},
        {"internal_domains", vals, 2},      {"legit_ips", vals, 2},
        {"legtimate_identifiers", vals, 2}, {"userdomain", vals, 2},
    };
    struct sigma_load_opts opts = {ph, sizeof(ph) / sizeof(ph[0])};
    t = load_tree("rules-placeholder", &opts);
    assert_int_equal(t->refused, 0);
    free(t);
}

/* ---- (4) SigmaHQ regression data: real Windows events ---- */

/*
 * A small JSON reader for the evtx_dump rendering of the regression events,
 * flattening as REGRESSION_NOTES §2.5 says: System.K -> K, System.K.#text
 * -> K, System.K.#attributes.A -> K_A, every leaf under EventData/UserData
 * -> its own key.  Test-only: the daemon uses decode_json.  Field names with
 * spaces are kept as they are; the evaluator reaches them space-stripped.
 */
struct jreader {
    const char *s;
    size_t n, i;
    struct event *ev;
    struct arena *a;
    const char *path[16];
    size_t depth;
    int bad;
};

static void jws(struct jreader *j)
{
    while (j->i < j->n && strchr(" \t\r\n", j->s[j->i]))
        j->i++;
}

/* Decodes a JSON string at j->i into the arena. */
static char *jstring(struct jreader *j)
{
    if (j->i >= j->n || j->s[j->i] != '"') {
        j->bad = 1;
        return NULL;
    }
    j->i++;
    char *out = arena_alloc(j->a, j->n - j->i + 1);
    size_t o = 0;
    assert_non_null(out);
    while (j->i < j->n && j->s[j->i] != '"') {
        char c = j->s[j->i++];
        if (c == '\\' && j->i < j->n) {
            c = j->s[j->i++];
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'r')
                c = '\r';
            else if (c == 'u' && j->i + 4 <= j->n) {
                unsigned cp = (unsigned)strtoul(
                    (char[5]){j->s[j->i], j->s[j->i + 1], j->s[j->i + 2], j->s[j->i + 3], 0}, NULL,
                    16);
                j->i += 4;
                if (cp < 0x80) {
                    out[o++] = (char)cp;
                } else if (cp < 0x800) {
                    out[o++] = (char)(0xc0 | (cp >> 6));
                    out[o++] = (char)(0x80 | (cp & 0x3f));
                } else {
                    out[o++] = (char)(0xe0 | (cp >> 12));
                    out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    out[o++] = (char)(0x80 | (cp & 0x3f));
                }
                continue;
            }
        }
        out[o++] = c;
    }
    j->i++; /* closing quote */
    out[o] = '\0';
    return out;
}

static void jemit(struct jreader *j, const char *val, size_t len)
{
    const char *name = NULL;
    char buf[256];
    if (j->depth >= 3 && strcmp(j->path[1], "System") == 0) {
        if (j->depth == 3)
            name = j->path[2];
        else if (j->depth == 4 && strcmp(j->path[3], "#text") == 0)
            name = j->path[2];
        else if (j->depth == 5 && strcmp(j->path[3], "#attributes") == 0) {
            snprintf(buf, sizeof(buf), "%s_%s", j->path[2], j->path[4]);
            name = buf;
        }
    } else if (j->depth >= 3 &&
               (strcmp(j->path[1], "EventData") == 0 || strcmp(j->path[1], "UserData") == 0)) {
        name = j->path[j->depth - 1];
        if (strcmp(name, "#text") == 0)
            name = j->path[j->depth - 2];
    }
    if (name)
        assert_int_equal(event_add_named(j->ev, name, strlen(name), val, len), 0);
}

static void jvalue(struct jreader *j)
{
    jws(j);
    if (j->bad || j->i >= j->n) {
        j->bad = 1;
        return;
    }
    char c = j->s[j->i];
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->i++;
        jws(j);
        if (j->i < j->n && j->s[j->i] == close) {
            j->i++;
            return;
        }
        while (!j->bad) {
            jws(j);
            if (c == '{') {
                char *k = jstring(j);
                jws(j);
                if (j->bad || j->i >= j->n || j->s[j->i] != ':' || j->depth >= 16) {
                    j->bad = 1;
                    return;
                }
                j->i++;
                j->path[j->depth++] = k;
                jvalue(j);
                j->depth--;
            } else {
                jvalue(j); /* array elements: repeated values of the field */
            }
            jws(j);
            if (j->i < j->n && j->s[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->i < j->n && j->s[j->i] == close) {
                j->i++;
                return;
            }
            j->bad = 1;
        }
        return;
    }
    if (c == '"') {
        char *v = jstring(j);
        if (v)
            jemit(j, v, strlen(v));
        return;
    }
    size_t st = j->i;
    while (j->i < j->n && !strchr(",}] \t\r\n", j->s[j->i]))
        j->i++;
    if (j->i - st == 4 && memcmp(j->s + st, "null", 4) == 0)
        return; /* dropped, as decode_json does */
    jemit(j, j->s + st, j->i - st);
}

struct regr {
    const char *base;
    size_t tests, passed, events, matched;
};

static void regr_rule(struct regr *g, const char *rule_path)
{
    size_t len;
    char *text = sigma_testlib_slurp(rule_path, &len);
    assert_non_null(text);
    const char *p = strstr(text, "\nregression_tests_path:");
    if (!p) {
        free(text);
        return;
    }
    char info[1024], dir[1024];
    p += strlen("\nregression_tests_path:");
    while (*p == ' ')
        p++;
    size_t pl = strcspn(p, "\r\n");
    snprintf(info, sizeof(info), "%s/sigma/%.*s", g->base, (int)pl, p);
    snprintf(dir, sizeof(dir), "%s", info);
    char *slash = strrchr(dir, '/');
    assert_non_null(slash);
    *slash = '\0';

    struct sigma_rule *r = NULL;
    struct sigma_err err;
    assert_int_equal(sigma_load_buf(text, len, rule_path, NULL, &r, &err), 0);
    free(text);
    g->tests++;

    size_t ilen;
    char *itext = sigma_testlib_slurp(info, &ilen);
    if (!itext)
        fail_msg("%s: regression info missing: %s", rule_path, info);
    long want = 1;
    const char *mc = strstr(itext, "match_count:");
    if (mc)
        want = strtol(mc + strlen("match_count:"), NULL, 10);
    free(itext);

    char json[1200];
    snprintf(json, sizeof(json), "%s/%s.json", dir, r->id);
    size_t jlen;
    char *js = sigma_testlib_slurp(json, &jlen);
    if (!js)
        fail_msg("%s: regression events missing: %s", rule_path, json);
    struct arena a;
    struct event ev;
    arena_init(&a, 0);
    long got = 0;
    size_t i = 0;
    for (;;) {
        while (i < jlen && strchr(" \t\r\n", js[i]))
            i++;
        if (i >= jlen)
            break;
        event_init(&ev, &a, "", 0, 0);
        struct jreader j = {.s = js, .n = jlen, .i = i, .ev = &ev, .a = &a};
        jvalue(&j);
        if (j.bad)
            fail_msg("%s: bad JSON at byte %zu", json, j.i);
        i = j.i;
        g->events++;
        got += sigma_eval(r, &ev);
        event_reset(&ev);
    }
    arena_done(&a);
    free(js);
    g->matched += (size_t)got;
    if (got >= want)
        g->passed++;
    else
        printf("  regression FAIL %s: %ld matches, want >= %ld\n", rule_path, got, want);
    sigma_rule_free(r);
}

static void regr_walk(struct regr *g, const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) < 0)
            continue;
        size_t n = strlen(de->d_name);
        if (S_ISDIR(st.st_mode))
            regr_walk(g, path);
        else if (n > 4 && strcmp(de->d_name + n - 4, ".yml") == 0)
            regr_rule(g, path);
    }
    closedir(d);
}

static void test_sigmahq_regression(void **state)
{
    (void)state;
    struct regr g = {.base = sigma_testlib_shared_dir()};
    static const char *const trees[] = {"rules", "rules-emerging-threats", "rules-threat-hunting"};
    for (size_t t = 0; t < 3; t++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/sigma/%s", g.base, trees[t]);
        regr_walk(&g, dir);
    }
    printf("SigmaHQ regression data: %zu/%zu rules reach their match_count (%zu events, %zu "
           "matches)\n",
           g.passed, g.tests, g.events, g.matched);
    assert_int_equal(g.tests, 202);
    assert_int_equal(g.passed, g.tests);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_multi_value_and_raw),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_cond_errors),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_filter_load_and_apply),
        cmocka_unit_test(test_filter_wider_logsource),
        cmocka_unit_test(test_filter_in_multidoc_file),
        cmocka_unit_test(test_filter_inclusive_flagged),
        cmocka_unit_test(test_filter_refusals),
        cmocka_unit_test(test_sigmahq_tree),
        cmocka_unit_test(test_sigmahq_regression),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    field_done();
    return rc;
}
