/*
 * test_tlscert.c - the self-signed certificate of a TLS listener: made with
 * the names asked for, the key 0600, kept on the next call, made again when
 * a name is missing or the files are damaged; errors name the file.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "util/readfile.h"
#include "util/tlscert.h"

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t n = 0;

    assert_int_equal(readfile_all(path, 1 << 20, &s, &n), 0);
    return s;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Parses the certificate at `path` (fails the test if it does not). */
static gnutls_x509_crt_t load(const char *path)
{
    char *pem = slurp(path);
    gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)strlen(pem)};
    gnutls_x509_crt_t crt;

    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    free(pem);
    return crt;
}

static void test_make_and_keep(void **state)
{
    char dir[] = "/tmp/test_tlscert_XXXXXX";
    char sub[64];
    const char *names[] = {"hikeshi.example.org", "localhost", "127.0.0.1", "[::1]"};
    const unsigned char v4[4] = {127, 0, 0, 1}, v6[16] = {[15] = 1};
    struct tlscert_paths p;
    char err[256];
    struct stat st;
    gnutls_x509_crt_t crt;
    char *cert1, *key1, *cert2;
    int created = -1;
    time_t now = time(NULL);
    unsigned int ca = 1;

    (void)state;
    assert_non_null(mkdtemp(dir));
    /* The directory is made if missing, 0700. */
    snprintf(sub, sizeof(sub), "%s/tls", dir);
    assert_int_equal(tlscert_ensure_self_signed(sub, "http", names, 4, &p, &created, err,
                                                sizeof(err)),
                     0);
    assert_int_equal(created, 1);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(p.key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_non_null(strstr(p.cert, "/tls/http.crt"));

    crt = load(p.cert);
    assert_true(gnutls_x509_crt_check_hostname(crt, "hikeshi.example.org"));
    assert_true(gnutls_x509_crt_check_hostname(crt, "localhost"));
    assert_false(gnutls_x509_crt_check_hostname(crt, "attacker.example"));
    assert_true(gnutls_x509_crt_check_ip(crt, v4, 4, 0));
    assert_true(gnutls_x509_crt_check_ip(crt, v6, 16, 0));
    /* A year, from about now; an end entity on ECDSA P-256, self-signed. */
    assert_true(gnutls_x509_crt_get_activation_time(crt) <= now);
    assert_true(gnutls_x509_crt_get_expiration_time(crt) > now + 364 * 86400);
    assert_true(gnutls_x509_crt_get_expiration_time(crt) <= now + 366 * 86400);
    assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, NULL), GNUTLS_PK_ECDSA);
    assert_int_equal(gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca, NULL), 0);
    assert_int_equal(ca, 0);
    assert_int_equal(gnutls_x509_crt_check_issuer(crt, crt), 1);
    {
        unsigned verify = 0;
        assert_int_equal(gnutls_x509_crt_verify(crt, &crt, 1, 0, &verify), 0);
        assert_int_equal(verify, 0);
    }
    gnutls_x509_crt_deinit(crt);

    /* Kept on the next call, also with fewer names. */
    cert1 = slurp(p.cert);
    key1 = slurp(p.key);
    assert_int_equal(tlscert_ensure_self_signed(sub, "http", names, 2, &p, &created, err,
                                                sizeof(err)),
                     0);
    assert_int_equal(created, 0);
    cert2 = slurp(p.cert);
    assert_string_equal(cert1, cert2);
    free(cert2);
    /* A key that became readable by others is made 0600 again. */
    assert_int_equal(chmod(p.key, 0644), 0);
    assert_int_equal(tlscert_ensure_self_signed(sub, "http", names, 4, &p, &created, err,
                                                sizeof(err)),
                     0);
    assert_int_equal(stat(p.key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* A name the certificate does not cover: a new pair. */
    {
        const char *more[] = {"hikeshi.example.org", "soc.example.net"};
        char *key2;

        assert_int_equal(tlscert_ensure_self_signed(sub, "http", more, 2, &p, &created, err,
                                                    sizeof(err)),
                         0);
        assert_int_equal(created, 1);
        crt = load(p.cert);
        assert_true(gnutls_x509_crt_check_hostname(crt, "soc.example.net"));
        gnutls_x509_crt_deinit(crt);
        key2 = slurp(p.key);
        assert_string_not_equal(key1, key2);
        free(key2);
    }
    /* A damaged certificate: made again. */
    write_text(p.cert, "-----BEGIN CERTIFICATE-----\nnot base64\n");
    assert_int_equal(tlscert_ensure_self_signed(sub, "http", names, 1, &p, &created, err,
                                                sizeof(err)),
                     0);
    assert_int_equal(created, 1);
    crt = load(p.cert);
    gnutls_x509_crt_deinit(crt);

    free(cert1);
    free(key1);
    unlink(p.cert);
    unlink(p.key);
    rmdir(sub);
    rmdir(dir);
}

static void test_errors(void **state)
{
    const char *none[] = {""};
    const char *one[] = {"localhost"};
    struct tlscert_paths p;
    char err[256] = "";
    char dir[] = "/tmp/test_tlscert_XXXXXX";
    char file[64];

    (void)state;
    assert_int_equal(tlscert_ensure_self_signed("/tmp", "x", none, 1, &p, NULL, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "host name"));
    assert_int_equal(tlscert_ensure_self_signed("/tmp", "x", one, 0, &p, NULL, err, sizeof(err)),
                     -EINVAL);
    /* The directory is a file: the error names it. */
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/f", dir);
    write_text(file, "x");
    snprintf(file, sizeof(file), "%s/f/sub", dir);
    assert_true(tlscert_ensure_self_signed(file, "x", one, 1, &p, NULL, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, file));
    snprintf(file, sizeof(file), "%s/f", dir);
    unlink(file);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_and_keep),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
