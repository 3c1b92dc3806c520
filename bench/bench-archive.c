/*
 * bench-archive.c - the archive's append throughput and compression
 * (bench/README.md, "Archive").
 *
 *   bench_archive FILE [SEAL_RECORDS]
 *
 * Reads FILE (one record a line; hikeshi-gen's syslog) into memory, then
 * appends every line to a fresh archive in a temporary directory, once
 * without a key and once sealing every SEAL_RECORDS records (default
 * 100000) with a fresh key, each closed (and so fsynced) inside the clock.
 * Prints records/s, MB/s of raw lines, the archive's size and the ratio,
 * then reads the archive back whole (records/s, MB/s), verifies it, and
 * runs `zstd -3 -c FILE` for the same file's ratio and time beside ours.
 * Receive times are one per 100 µs from a fixed start, as a live input
 * stamps them; the archive stores them and the input name and peer with
 * each line, which zstd(1) on the bare file does not carry.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t dir_bytes(const char *dir)
{
    char cmd[512];
    unsigned long long n = 0;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "cat '%s'/seg-* | wc -c", dir);
    p = popen(cmd, "r");
    if (!p || fscanf(p, "%llu", &n) != 1)
        n = 0;
    if (p)
        pclose(p);
    return n;
}

struct lines {
    char *buf;
    size_t len;
    size_t *off; /* start of each line */
    size_t n;
};

static int load(const char *path, struct lines *l)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    size_t cap = 0;

    if (!f || fstat(fileno(f), &st) < 0)
        return -1;
    l->len = (size_t)st.st_size;
    l->buf = malloc(l->len + 1);
    if (!l->buf || fread(l->buf, 1, l->len, f) != l->len)
        return -1;
    fclose(f);
    l->buf[l->len] = '\n';
    for (size_t i = 0; i < l->len; i++) {
        if (i == 0 || l->buf[i - 1] == '\n') {
            if (l->n == cap) {
                cap = cap ? 2 * cap : 1 << 20;
                l->off = realloc(l->off, cap * sizeof(*l->off));
                if (!l->off)
                    return -1;
            }
            l->off[l->n++] = i;
        }
    }
    return 0;
}

static int append_all(const char *dir, const struct lines *l, struct archive_key *k, uint64_t seal,
                      double *ret_s)
{
    struct archive_writer_opts o = {.seal_records = seal};
    struct archive_open_report rep;
    struct archive_writer *w;
    double t0 = now_s();
    int r;

    r = archive_writer_open(dir, &o, k, &w, &rep);
    if (r < 0)
        return r;
    for (size_t i = 0; i < l->n; i++) {
        size_t end = i + 1 < l->n ? l->off[i + 1] - 1 : l->len;
        struct archive_record rec = {
            .recv_us = 1780272000000000LL + (int64_t)i * 100,
            .input = "syslog-tcp",
            .input_len = 10,
            .peer_family = 4,
            .peer_addr = {10, 0, (uint8_t)(i >> 8 & 7), (uint8_t)i},
            .peer_port = (uint16_t)(40000 + (i & 1023)),
            .raw = (const uint8_t *)l->buf + l->off[i],
            .raw_len = end - l->off[i],
        };

        r = archive_writer_append(w, &rec);
        if (r < 0)
            return r;
    }
    r = archive_writer_close(w);
    *ret_s = now_s() - t0;
    return r;
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/bench_archive.XXXXXX", dir[128], key[128], pub[128], cmd[1024];
    uint8_t pubk[ARCHIVE_PUBKEY_LEN];
    struct archive_verify_result res;
    struct archive_reader *rd;
    struct archive_record rec;
    struct archive_key *k;
    struct lines l = {0};
    uint64_t seal = 100000, bytes = 0, n = 0;
    unsigned long long zbytes = 0;
    double s, mb;
    const char *why;
    FILE *p;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_archive FILE [SEAL_RECORDS]\n");
        return 2;
    }
    if (argc == 3)
        seal = strtoull(argv[2], NULL, 10);
    if (load(argv[1], &l) < 0 || !mkdtemp(tmp)) {
        perror(argv[1]);
        return 1;
    }
    mb = (double)(l.len - (l.n ? l.n : 0)) / 1e6; /* raw bytes without newlines */
    printf("input: %s: %zu records, %.1f MB of lines\n\n", argv[1], l.n, mb);
    printf("| case | seconds | records/s | MB/s | stored bytes | ratio "
           "|\n|---|---|---|---|---|---|\n");

    snprintf(dir, sizeof(dir), "%s/plain", tmp);
    if (append_all(dir, &l, NULL, 0, &s) < 0)
        return 1;
    bytes = dir_bytes(dir);
    printf("| archive append, no key | %.2f | %.0f | %.1f | %" PRIu64 " | %.2f |\n", s, l.n / s,
           mb / s, bytes, (double)l.len / (double)bytes);

    snprintf(dir, sizeof(dir), "%s/sealed", tmp);
    snprintf(key, sizeof(key), "%s/k", tmp);
    snprintf(pub, sizeof(pub), "%s/k.pub", tmp);
    if (archive_key_generate(key, pub, pubk) < 0 || archive_key_load(key, &k, &why) < 0)
        return 1;
    if (append_all(dir, &l, k, seal, &s) < 0)
        return 1;
    bytes = dir_bytes(dir);
    printf("| archive append, sealed every %" PRIu64 " | %.2f | %.0f | %.1f | %" PRIu64
           " | %.2f |\n",
           seal, s, l.n / s, mb / s, bytes, (double)l.len / (double)bytes);

    s = now_s();
    if (archive_reader_open(dir, INT64_MIN, INT64_MAX, &rd) < 0)
        return 1;
    while (archive_reader_next(rd, &rec) == 1)
        n++;
    archive_reader_free(rd);
    s = now_s() - s;
    printf("| archive read back, all records | %.2f | %.0f | %.1f | | |\n", s, n / s, mb / s);

    s = now_s();
    if (archive_verify(dir, pubk, archive_key_epoch(k), &res) < 0 ||
        res.fault != ARCHIVE_FAULT_NONE || res.records != l.n) {
        fprintf(stderr, "bench_archive: verify: %s\n", res.why);
        return 1;
    }
    s = now_s() - s;
    printf("| archive verify (%" PRIu64 " seals) | %.2f | %.0f | %.1f | | |\n", res.seals, s,
           l.n / s, mb / s);
    archive_key_free(k);

    snprintf(cmd, sizeof(cmd), "zstd -3 -q -c '%s' | wc -c", argv[1]);
    s = now_s();
    p = popen(cmd, "r");
    if (p && fscanf(p, "%llu", &zbytes) == 1 && pclose(p) == 0 && zbytes > 0) {
        s = now_s() - s;
        printf("| peer: zstd -3 -c FILE | %.2f | %.0f | %.1f | %llu | %.2f |\n", s, l.n / s, mb / s,
               zbytes, (double)l.len / (double)zbytes);
    } else {
        printf("| peer: zstd -3 -c FILE | (zstd(1) not installed) | | | | |\n");
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        return 1;
    free(l.buf);
    free(l.off);
    return n == l.n ? 0 : 1;
}
