/*
 * bench-hunt.c - `hikeshi hunt` over an archive of a generator's day, beside
 * `zstdcat | grep` over the same lines compressed by zstd(1)
 * (bench/README.md, "Hunt").
 *
 *   bench_hunt HIKESHI FILE ADDRESS FIELD REGEX
 *
 * Appends every line of FILE to a fresh archive in a temporary directory
 * with the writer's defaults (as the daemon does: 1 MiB blocks, zstd -3;
 * receive times one per 100 µs), and once more without the blocks'
 * indexes, timing both appends (this process's CPU: the index's cost on
 * the write path) and giving both sizes; then times, each as one process
 * from start to exit: hunt for ADDRESS as a word (raw text only; with the
 * blocks' indexes and with --no-index), for
 * FIELD=ADDRESS (every record decoded), for both (the word rules records
 * out before decoding), a full-scan hunt for _raw~/REGEX/, and
 * `zstdcat FILE.zst | grep -c` for ADDRESS (-F) and REGEX (-E) over
 * `zstd -3` of the same FILE.  Prints wall seconds, the CPU seconds of the
 * processes (user + system: steadier on a shared machine), the matches each
 * found, and records/s and MB/s of raw lines by CPU time.  No assertion:
 * the figures go to bench/README.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "archive/archive.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double children_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double self_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_s; /* CPU seconds of the last timed() */

/* Runs `cmd` through sh; its stdout's last number is the match count. */
static int timed(const char *cmd, double *ret_s, unsigned long long *ret_n)
{
    char line[256];
    double s = now_s(), c = children_cpu_s();
    FILE *p = popen(cmd, "r");
    int rc;

    *ret_n = 0;
    if (!p)
        return -1;
    while (fgets(line, sizeof(line), p))
        *ret_n = strtoull(line, NULL, 10);
    rc = pclose(p);
    *ret_s = now_s() - s;
    cpu_s = children_cpu_s() - c;
    return rc == 0 ? 0 : -1;
}

/* Appends FILE's lines; the record count and raw bytes (no newlines). */
static int fill(const char *dir, const char *file, int no_index, uint64_t *ret_n,
                uint64_t *ret_bytes)
{
    struct archive_writer_opts o = {.no_index = no_index};
    struct archive_open_report rep;
    struct archive_writer *w;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    FILE *f = fopen(file, "r");

    if (!f || archive_writer_open(dir, &o, NULL, &w, &rep) < 0)
        return -1;
    while ((n = getline(&line, &cap, f)) > 0) {
        struct archive_record r = {.recv_us = 1767225600000000LL + (int64_t)*ret_n * 100,
                                   .peer_family = 4,
                                   .peer_port = 514,
                                   .peer_addr = {192, 0, 2, 1},
                                   .input = "gen",
                                   .input_len = 3};

        if (line[n - 1] == '\n')
            n--;
        r.raw = (const uint8_t *)line;
        r.raw_len = (size_t)n;
        if (archive_writer_append(w, &r) < 0)
            return -1;
        (*ret_n)++;
        *ret_bytes += (uint64_t)n;
    }
    free(line);
    fclose(f);
    return archive_writer_close(w);
}

static void row(const char *label, double s, unsigned long long hits, uint64_t n, double mb)
{
    double c = cpu_s > 0 ? cpu_s : s;

    printf("| %s | %.2f | %.2f | %llu | %.0f | %.1f |\n", label, s, cpu_s, hits, (double)n / c,
           mb / c);
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/bench_hunt.XXXXXX", dir[128], dir0[128], cmd[4096], q[1024];
    const char *bin, *file, *addr, *field, *re;
    uint64_t n = 0, bytes = 0;
    unsigned long long hits, size_ix = 0, size_no = 0;
    double s, mb, c, ingest_s[2], ingest_cpu[2];

    if (argc != 6) {
        fprintf(stderr, "usage: bench_hunt HIKESHI FILE ADDRESS FIELD REGEX\n");
        return 2;
    }
    bin = argv[1];
    file = argv[2];
    addr = argv[3];
    field = argv[4];
    re = argv[5];
    for (int i = 1; i < 6; i++)
        if (strchr(argv[i], '\'') || strlen(argv[i]) > 256) {
            fprintf(stderr, "bench_hunt: no quotes and at most 256 bytes an argument\n");
            return 2;
        }
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s/archive", tmp);
    snprintf(dir0, sizeof(dir0), "%s/archive-noindex", tmp);
    for (int i = 0; i < 2; i++) {
        uint64_t n1 = 0, b1 = 0;

        s = now_s();
        c = self_cpu_s();
        if (fill(i ? dir0 : dir, file, i, &n1, &b1) < 0) {
            fprintf(stderr, "bench_hunt: cannot write the archive from %s\n", file);
            return 1;
        }
        ingest_s[i] = now_s() - s;
        ingest_cpu[i] = self_cpu_s() - c;
        n = n1;
        bytes = b1;
    }
    snprintf(cmd, sizeof(cmd), "du -sb '%s' | cut -f1", dir);
    (void)timed(cmd, &s, &size_ix);
    snprintf(cmd, sizeof(cmd), "du -sb '%s' | cut -f1", dir0);
    (void)timed(cmd, &s, &size_no);
    mb = (double)bytes / 1e6;
    printf("input: %s: %" PRIu64 " records, %.1f MB of lines\n\n", file, n, mb);
    printf("| append | wall s | CPU s | records/s (CPU) | archive MB | ratio |\n"
           "|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < 2; i++) {
        double sz = (double)(i ? size_no : size_ix);

        printf("| %s | %.2f | %.2f | %.0f | %.1f | %.1f:1 |\n",
               i ? "without the index" : "with the index (default)", ingest_s[i], ingest_cpu[i],
               (double)n / ingest_cpu[i], sz / 1e6, sz > 0 ? (double)bytes / sz : 0.0);
    }
    printf("\n");
    printf("| case | wall s | CPU s | matches | records/s (CPU) | MB/s of raw (CPU) |\n"
           "|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < 6; i++) {
        static const char *const labels[] = {
            "hunt ADDRESS (a word; the blocks' indexes)",
            "hunt --no-index ADDRESS (a word: every block read)",
            "hunt FIELD=ADDRESS (every record decoded; no index applies)",
            "hunt 'ADDRESS FIELD=ADDRESS' (the word: index, then records ruled out)",
            "hunt --no-index 'ADDRESS FIELD=ADDRESS'",
            "hunt _raw~/REGEX/ (full scan, regex)",
        };

        switch (i) {
        case 0:
        case 1: snprintf(q, sizeof(q), "%s", addr); break;
        case 2: snprintf(q, sizeof(q), "%s=%s", field, addr); break;
        case 3:
        case 4: snprintf(q, sizeof(q), "%s %s=%s", addr, field, addr); break;
        default: snprintf(q, sizeof(q), "_raw~/%s/", re); break;
        }
        snprintf(cmd, sizeof(cmd),
                 "'%s' hunt --dir '%s' -f jsonl %s '%s' 2>'%s/hunt-%d.err' | wc -l", bin, dir,
                 i == 1 || i == 4 ? "--no-index" : "", q, tmp, i);
        if (timed(cmd, &s, &hits) < 0)
            printf("| %s | failed | | | | |\n", labels[i]);
        else
            row(labels[i], s, hits, n, mb);
    }
    /* What each hunt read: its summary's block counts. */
    snprintf(cmd, sizeof(cmd),
             "for i in 0 1 2 3 4 5; do printf 'hunt case %%d: ' $((i + 1)); "
             "grep -o 'blocks: .*' '%s'/hunt-$i.err || echo; done >&2",
             tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_hunt: no hunt summaries\n");
    snprintf(cmd, sizeof(cmd), "zstd -3 -q -c '%s' > '%s/f.zst' && echo 0", file, tmp);
    if (timed(cmd, &s, &hits) < 0) {
        printf("| zstdcat \\| grep | (zstd(1) not installed) | | | | |\n");
    } else {
        snprintf(cmd, sizeof(cmd), "zstdcat '%s/f.zst' | grep -c -F -e '%s'", tmp, addr);
        (void)timed(cmd, &s, &hits); /* grep -c exits 1 on no match */
        row("zstdcat FILE.zst \\| grep -F ADDRESS", s, hits, n, mb);
        snprintf(cmd, sizeof(cmd), "zstdcat '%s/f.zst' | grep -c -E -e '%s'", tmp, re);
        (void)timed(cmd, &s, &hits);
        row("zstdcat FILE.zst \\| grep -E REGEX", s, hits, n, mb);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : 1;
}
