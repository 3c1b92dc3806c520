/*
 * test_decode_clamav.c - ClamAV detection lines.  No ClamAV log is in
 * ../shared/data: the lines are written from ClamAV's documented output
 * (clamd's and clamscan's "PATH: SIGNATURE FOUND", the ExtendedDetectionInfo
 * suffix, stream scans, clamd.log's LogTime prefix, clamav-milter's
 * infected-message line), using the EICAR test signature's names.  Hostile
 * and truncated variants follow.
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

#include "decode/decode_clamav.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good good[] = {
    {"/home/alice/Downloads/eicar.com: Eicar-Signature FOUND",
     {{"event.module", "clamav"},
      {"event.kind", "alert"},
      {"event.category", "malware"},
      {"event.action", "malware_detected"},
      {"clamav.signature", "Eicar-Signature"},
      {"rule.name", "Eicar-Signature"},
      {"file.path", "/home/alice/Downloads/eicar.com"},
      {"file.hash.md5", NULL},
      {NULL, NULL}}},
    {"/srv/www/upload/x.php: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND",
     {{"clamav.signature", "Win.Test.EICAR_HDB-1"},
      {"file.hash.md5", "44d88612fea8a8f36de82e1278abb02f"},
      {"file.size", "68"},
      {NULL, NULL}}},
    {"Mon Jan  8 10:00:00 2024 -> /tmp/a: b.txt: Php.Webshell.Generic-1 FOUND",
     {{"file.path", "/tmp/a: b.txt"},
      {"clamav.signature", "Php.Webshell.Generic-1"},
      {NULL, NULL}}},
    {"instream(127.0.0.1@50212): Eicar-Signature FOUND",
     {{"file.path", NULL}, {"source.ip", "127.0.0.1"}, {NULL, NULL}}},
    {"fd[10]: Eicar-Signature FOUND", {{"file.path", NULL}, {"source.ip", NULL}, {NULL, NULL}}},
    {"Message 4BC8A1F2C3 from <spam@example.net> to <alice@example.org> with subject 'invoice' "
     "message-id '<x@example.net>' date 'Mon, 8 Jan 2024 10:00:00 +0000' infected by "
     "Doc.Downloader.Emotet-1",
     {{"clamav.signature", "Doc.Downloader.Emotet-1"},
      {"email.from.address", "spam@example.net"},
      {"email.to.address", "alice@example.org"},
      {"email.subject", "invoice"},
      {NULL, NULL}}},
    /* hostile: a parenthesis that is not a hash stays in the signature */
    {"/x: Sig(notahash) FOUND", {{"clamav.signature", "Sig(notahash)"}, {NULL, NULL}}},
};

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"/home/alice/notes.txt: OK", -ENOENT, 0},
    {"SelfCheck: Database status OK.", -ENOENT, 0},
    {"----------- SCAN SUMMARY -----------", -ENOENT, 0},
    {": Eicar-Signature FOUND", -ENOENT, 0},
    {"/x:  FOUND", -ENOENT, 0},
    {"FOUND", -ENOENT, 0},
    {"/x: two words FOUND", -ENOENT, 0},
    {"Message 4BC8A1F2C3 from <a> to <b> infected by ", -ENOENT, 0},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_clamav, "clamav", good, sizeof(good) / sizeof(good[0]));
}

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_clamav, bad, sizeof(bad) / sizeof(bad[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
