/*
 * fuzz_archive.c - the archive's readers of bytes found on disk.
 *
 * The input is a segment file as found in DATA_DIR/archive, or, when its
 * first byte is 0x02 (a segment starts with 0x89), two segments 0 and 1,
 * the first as long as the next two bytes say (little-endian).  archive_verify must judge it
 * without crashing and say where it is wrong; the reader must read what it can and count the rest;
 * the writer must either continue the archive (cutting a torn tail) or refuse it, and when it
 * continued, append, close, and leave an archive the reader reads to the end.  The input is also
 * read directly as a frame header, as a decompressed block (after 4 bytes whose low 16 bits
 * give its count) and as a block's index; the reader reads once more with each block's index
 * consulted (a block whose index rules out a word is skipped unread).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "archive/archive_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put(uint64_t seq, const uint8_t *p, size_t n)
{
    char path[128], name[ARCHIVE_SEG_NAME_LEN + 1];
    int fd;

    archive_seg_name(seq, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
        abort();
    close(fd);
}

static void clear(void)
{
    char path[128], name[ARCHIVE_SEG_NAME_LEN + 1];

    for (uint64_t s = 0; s < 3; s++) {
        archive_seg_name(s, name, sizeof(name));
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        (void)unlink(path);
    }
}

/* Rules out blocks without "sshd" (the seeds' records have it or not). */
static int may_match(void *ctx, const struct archive_index *ix)
{
    (void)ctx;
    return archive_index_may_contain(ix, "sshd", 4) && archive_index_may_contain(ix, " a ", 3);
}

static void read_all(int with_index)
{
    struct archive_reader *rd;
    struct archive_record rec;
    uint64_t n = 0;

    if (archive_reader_open(dir, INT64_MIN, INT64_MAX, &rd) < 0)
        return;
    if (with_index)
        archive_reader_set_index(rd, may_match, NULL);
    while (archive_reader_next(rd, &rec) == 1) {
        if (rec.raw_len > ARCHIVE_RECORD_MAX || rec.input_len > ARCHIVE_INPUT_NAME_MAX)
            abort();
        n++;
    }
    archive_reader_free(rd);
    (void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct archive_verify_result res;
    struct archive_open_report rep;
    struct archive_frame_hdr fh;
    struct archive_record rec;
    struct archive_writer *w;
    const char *why;
    struct archive_block_iter it;
    struct archive_index ix;

    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/fuzz_archive.%ld", (long)getpid());
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            abort();
    }
    /* Directly: a frame header, and the bytes as a decompressed block. */
    (void)archive_frame_hdr_decode(data, size, &fh, &why);
    if (size >= 4 &&
        archive_block_iter_init(&it, data + 4, size - 4, archive_get32(data) & 0xffff, &why) == 0)
        while (archive_block_iter_next(&it, &rec, &why) == 1)
            if (it.data_off > it.len || rec.raw + rec.raw_len > data + size)
                abort();
    if (archive_index_decode(data, size, &ix, &why) == 0 &&
        ix.nbits / 8 + ARCHIVE_INDEX_HDR_LEN != size)
        abort();
    else if (archive_index_decode(data, size, &ix, &why) == 0)
        (void)archive_index_may_contain(&ix, (const char *)data, size < 64 ? size : 64);

    clear();
    if (size > 3 && data[0] == 0x02) {
        size_t cut = archive_get16(data + 1);

        cut = cut > size - 3 ? size - 3 : cut;
        put(0, data + 3, cut);
        put(1, data + 3 + cut, size - 3 - cut);
    } else {
        put(0, data, size);
    }
    if (archive_verify(dir, NULL, 0, &res) < 0)
        abort();
    if (res.fault != ARCHIVE_FAULT_NONE && res.why[0] == '\0')
        abort(); /* every fault says why */
    read_all(0);
    read_all(1);
    if (archive_writer_open(dir, NULL, NULL, &w, &rep) == 0) {
        rec = (struct archive_record){
            .recv_us = 1, .input = "f", .input_len = 1, .raw = (const uint8_t *)"x", .raw_len = 1};
        (void)archive_writer_append(w, &rec);
        if (archive_writer_close(w) < 0)
            abort();
        read_all(0);
    }
    return 0;
}
