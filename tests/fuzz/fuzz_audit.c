/*
 * fuzz_audit.c - the audit log's two readers of outside bytes.
 *
 * First byte even: the rest is a caller's details for audit_append, and
 * whatever append accepts must come back as an intact chain from
 * audit_verify (the compacted copy is valid JSON in our layout).  First
 * byte odd: the rest is an audit file as found on disk, which verify must
 * judge without crashing, and which audit_open must either continue or
 * refuse, leaving a chain that verifies up to where it did before.
 * Seal lines are judged by verify (their details, counts and signature)
 * and, once the log is open, by the start-up check, which reads the log
 * back to its last seal and reads the same bytes as an exported head.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "incident/audit.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void write_file(const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct audit_result res;
    struct audit *a = NULL;
    int r;

    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/fuzz_audit.%ld.log", (long)getpid());
        log_set_level(LOG_LEVEL_ERROR);
    }
    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0) {
        write_file(NULL, 0);
        if (audit_open(path, &a, &res) < 0)
            abort();
        r = audit_append(a, "fuzz", "fuzz.details", "fuzz/1", (const char *)data + 1, size - 1,
                         NULL);
        audit_free(a);
        if (audit_verify(path, &res) < 0 || res.why != AUDIT_OK ||
            res.entries != (r == 0 ? 1u : 0u))
            abort();
    } else {
        write_file(data + 1, size - 1);
        if (audit_verify(path, &res) < 0)
            abort();
        r = audit_open(path, &a, &res);
        if (r == 0) {
            struct audit_seal_opts so = {.head_path = path};
            struct audit_cut cut;

            r = audit_seal_start(a, &so, &cut);
            if (r < 0 && r != -EBADMSG && r != -ENOMEM)
                abort();
            if (audit_append(a, "fuzz", "fuzz.file", "fuzz/2", NULL, 0, NULL) < 0)
                abort();
            audit_free(a);
        } else if (r != -EBADMSG) {
            abort();
        }
    }
    unlink(path);
    return 0;
}
