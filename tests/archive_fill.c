/*
 * archive_fill.c - writes an archive from the lines of a file, for the
 * end-to-end test of `hikeshi archive` (tests/e2e/e2e_archive.py) while no
 * input writes to the archive yet.  Not installed.
 *
 *   archive_fill DIR KEY|- START_US STEP_US SEAL_RECORDS SEGMENT_BYTES FILE
 *
 * Line i (0-based) becomes a record received at START_US + i * STEP_US on
 * input "e2e" from 192.0.2.(i % 250 + 1), port 514 + i % 1000.  KEY "-":
 * no seals.  Prints the open report and the records written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"

int main(int argc, char **argv)
{
    struct archive_writer_opts o = {0};
    struct archive_open_report rep;
    struct archive_writer *w;
    struct archive_key *k = NULL;
    const char *why = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t start, step;
    uint64_t i = 0;
    FILE *f;
    int r;

    if (argc != 8) {
        fprintf(stderr, "usage: archive_fill DIR KEY|- START_US STEP_US SEAL_RECORDS "
                        "SEGMENT_BYTES FILE\n");
        return 2;
    }
    start = strtoll(argv[3], NULL, 10);
    step = strtoll(argv[4], NULL, 10);
    o.seal_records = strtoull(argv[5], NULL, 10);
    o.segment_bytes = strtoull(argv[6], NULL, 10);
    o.block_bytes = 16 * 1024;
    if (strcmp(argv[2], "-") != 0 && (r = archive_key_load(argv[2], &k, &why)) < 0) {
        fprintf(stderr, "archive_fill: %s: %s\n", argv[2], why ? why : strerror(-r));
        return 1;
    }
    f = fopen(argv[7], "r");
    if (!f) {
        perror(argv[7]);
        return 1;
    }
    r = archive_writer_open(argv[1], &o, k, &w, &rep);
    if (r < 0) {
        fprintf(stderr, "archive_fill: %s: %s\n", argv[1], strerror(-r));
        return 1;
    }
    printf("dropped_bytes=%" PRIu64 " dropped_records=%" PRIu64 " records=%" PRIu64 "\n",
           rep.dropped_bytes, rep.dropped_records, rep.records);
    while ((n = getline(&line, &cap, f)) > 0) {
        struct archive_record rec = {0};

        if (line[n - 1] == '\n')
            n--;
        rec.recv_us = start + (int64_t)i * step;
        rec.input = "e2e";
        rec.input_len = 3;
        rec.peer_family = 4;
        rec.peer_addr[0] = 192;
        rec.peer_addr[2] = 2;
        rec.peer_addr[3] = (uint8_t)(i % 250 + 1);
        rec.peer_port = (uint16_t)(514 + i % 1000);
        rec.raw = (const uint8_t *)line;
        rec.raw_len = (size_t)n;
        r = archive_writer_append(w, &rec);
        if (r < 0) {
            fprintf(stderr, "archive_fill: append: %s\n", strerror(-r));
            return 1;
        }
        i++;
    }
    free(line);
    fclose(f);
    r = archive_writer_close(w);
    archive_key_free(k);
    if (r < 0) {
        fprintf(stderr, "archive_fill: close: %s\n", strerror(-r));
        return 1;
    }
    printf("written=%" PRIu64 "\n", i);
    return 0;
}
