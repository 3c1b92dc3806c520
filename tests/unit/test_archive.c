/*
 * test_archive.c - the archive (src/archive/): real syslog lines written
 * and read back byte for byte, selection by time, a torn tail cut on open
 * and counted, and each kind of tampering found by archive_verify at the
 * place it was done: a flipped byte, a removed or reordered block or
 * segment, a cut-off tail, a rewrite with a recomputed chain but without
 * the key, and a rewrite re-signed by a thief holding the current key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "archive/archive.h"
#include "archive/archive_priv.h"

#define MAX_LINES 2000

static char tmp[64], dir[128], keyp[128], pubp[128];
static char *lines[MAX_LINES];
static size_t nlines;
static uint8_t pub[ARCHIVE_PUBKEY_LEN];

static void load_lines(void)
{
    const char *shared = getenv("HIKESHI_SHARED");
    char path[512], buf[8192];
    FILE *f;

    if (nlines)
        return;
    snprintf(path, sizeof(path), "%s/data/linux-logs/loghub/Linux/Linux_2k.log",
             shared ? shared : "../shared");
    f = fopen(path, "r");
    assert_non_null(f);
    while (nlines < MAX_LINES && fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\n")] = '\0';
        lines[nlines] = strdup(buf);
        assert_non_null(lines[nlines]);
        nlines++;
    }
    fclose(f);
    assert_true(nlines >= 1000);
}

/* The record written for line i: its time, input and peer vary with i. */
static struct archive_record rec_for(size_t i)
{
    static const char *inputs[] = {"syslog-udp", "syslog-tcp", "file"};
    struct archive_record r = {0};

    r.recv_us = 1700000000000000LL + (int64_t)i * 1000;
    r.input = inputs[i % 3];
    r.input_len = strlen(r.input);
    r.flags = (uint16_t)(i & 3);
    r.peer_family = i % 3 == 2 ? 0 : i % 3 == 1 ? 6 : 4;
    r.peer_port = (uint16_t)(40000 + i);
    for (int k = 0; k < 16; k++)
        r.peer_addr[k] = r.peer_family == 4 && k >= 4 ? 0 : (uint8_t)(i + (size_t)k);
    r.raw = (const uint8_t *)lines[i % nlines];
    r.raw_len = strlen(lines[i % nlines]);
    return r;
}

static int setup(void **state)
{
    (void)state;
    load_lines();
    snprintf(tmp, sizeof(tmp), "/tmp/test_archive.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(dir, sizeof(dir), "%s/archive", tmp);
    snprintf(keyp, sizeof(keyp), "%s/archive.key", tmp);
    snprintf(pubp, sizeof(pubp), "%s/archive.pub", tmp);
    return archive_key_generate(keyp, pubp, pub);
}

static int teardown(void **state)
{
    char cmd[160];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes records [from, to) with the key (NULL: none). */
static void write_records(size_t from, size_t to, const struct archive_writer_opts *o, int with_key)
{
    struct archive_open_report rep;
    struct archive_writer *w;
    struct archive_key *k = NULL;
    const char *why;

    if (with_key)
        assert_int_equal(archive_key_load(keyp, &k, &why), 0);
    assert_int_equal(archive_writer_open(dir, o, k, &w, &rep), 0);
    assert_int_equal(rep.dropped_bytes, 0);
    assert_int_equal(rep.seal_gap, 0);
    assert_int_equal(rep.records, from);
    for (size_t i = from; i < to; i++) {
        struct archive_record r = rec_for(i);

        assert_int_equal(archive_writer_append(w, &r), 0);
    }
    assert_int_equal(archive_writer_records(w), to);
    assert_int_equal(archive_writer_close(w), 0);
    archive_key_free(k);
}

static const struct archive_writer_opts small = {
    .block_bytes = 8192, .seal_records = 300, .segment_bytes = 64 * 1024};

static const struct archive_writer_opts tiny_segments = {
    .block_bytes = 4096, .seal_records = 300, .segment_bytes = 12 * 1024};

static void expect_fault(enum archive_fault f, const uint8_t *key, uint64_t epoch,
                         struct archive_verify_result *res)
{
    assert_int_equal(archive_verify(dir, key, epoch, res), 0);
    if (res->fault != f)
        fail_msg("expected '%s', got '%s' at %s frame %llu offset %llu: %s", archive_fault_name(f),
                 archive_fault_name(res->fault), res->segment, (unsigned long long)res->frame,
                 (unsigned long long)res->offset, res->why);
}

static void test_round_trip(void **state)
{
    struct archive_verify_result res;
    struct archive_reader *rd;
    struct archive_record got;
    uint64_t nread, nskip, ncorrupt;
    size_t n = 0;

    (void)state;
    write_records(0, 1500, &small, 1);
    write_records(1500, 2600, &small, 1); /* reopened: the chain goes on */
    expect_fault(ARCHIVE_FAULT_NONE, pub, 0, &res);
    assert_int_equal(res.records, 2600);
    assert_true(res.segments > 1);
    assert_int_equal(res.sealed_records, 2600); /* close seals */
    assert_true(res.seals >= 2600 / 300);

    assert_int_equal(archive_reader_open(dir, INT64_MIN, INT64_MAX, &rd), 0);
    while (archive_reader_next(rd, &got) == 1) {
        struct archive_record want = rec_for(n);

        assert_true(n < 2600);
        assert_int_equal(got.recv_us, want.recv_us);
        assert_int_equal(got.flags, want.flags);
        assert_int_equal(got.peer_family, want.peer_family);
        if (want.peer_family) {
            assert_int_equal(got.peer_port, want.peer_port);
            assert_memory_equal(got.peer_addr, want.peer_addr, want.peer_family == 4 ? 4 : 16);
        }
        assert_int_equal(got.input_len, want.input_len);
        assert_memory_equal(got.input, want.input, want.input_len);
        assert_int_equal(got.raw_len, want.raw_len);
        assert_memory_equal(got.raw, want.raw, want.raw_len);
        n++;
    }
    assert_int_equal(n, 2600);
    archive_reader_counts(rd, &nread, &nskip, &ncorrupt);
    assert_int_equal(ncorrupt, 0);
    assert_int_equal(nskip, 0);
    archive_reader_free(rd);
}

static void test_time_range(void **state)
{
    struct archive_reader *rd;
    struct archive_record got;
    uint64_t nread, nskip, ncorrupt;
    int64_t from = rec_for(1000).recv_us, to = rec_for(1100).recv_us;
    size_t n = 0;

    (void)state;
    write_records(0, 2000, &small, 1);
    assert_int_equal(archive_reader_open(dir, from, to, &rd), 0);
    while (archive_reader_next(rd, &got) == 1) {
        assert_int_equal(got.recv_us, rec_for(1000 + n).recv_us);
        n++;
    }
    assert_int_equal(n, 100);
    archive_reader_counts(rd, &nread, &nskip, &ncorrupt);
    /* Most blocks are passed over by their time range alone. */
    assert_true(nskip > 5 * nread);
    assert_int_equal(ncorrupt, 0);
    archive_reader_free(rd);
}

/* From a record number on (the daemon's cursor): each record comes with its
 * number, starting exactly there, across blocks and segments, and the
 * blocks before it are skipped unread. */
static void test_from_record(void **state)
{
    static const size_t starts[] = {0, 1, 777, 1999, 2000};
    struct archive_reader *rd;
    struct archive_record got;
    uint64_t nread, nskip, ncorrupt;

    (void)state;
    write_records(0, 2000, &tiny_segments, 0);
    for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
        size_t n = starts[k];

        assert_int_equal(archive_reader_open(dir, INT64_MIN, INT64_MAX, &rd), 0);
        archive_reader_from_record(rd, starts[k]);
        while (archive_reader_next(rd, &got) == 1) {
            struct archive_record want = rec_for(n);

            assert_int_equal(archive_reader_record_no(rd), n);
            assert_int_equal(got.recv_us, want.recv_us);
            assert_int_equal(got.raw_len, want.raw_len);
            assert_memory_equal(got.raw, want.raw, want.raw_len);
            n++;
        }
        assert_int_equal(n, 2000);
        archive_reader_counts(rd, &nread, &nskip, &ncorrupt);
        if (starts[k] == 1999)
            assert_true(nskip > 10 && nread == 1);
        assert_int_equal(ncorrupt, 0);
        archive_reader_free(rd);
    }
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void seg_path(uint64_t seq, char *out, size_t size)
{
    char name[ARCHIVE_SEG_NAME_LEN + 1];

    archive_seg_name(seq, name, sizeof(name));
    snprintf(out, size, "%s/%s", dir, name);
}

/* The frames of one segment: offsets and lengths. */
struct frame_pos {
    uint64_t off, len;
    uint8_t type;
    uint32_t nrecords;
};
static size_t frames_of(uint64_t seq, struct frame_pos *out, size_t max)
{
    struct archive_scan s;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
    size_t n = 0;

    assert_true(dirfd >= 0);
    assert_int_equal(archive_scan_open(dirfd, seq, 0, &s), 0);
    while (n < max && archive_scan_next(&s, 1) == ARCHIVE_SCAN_FRAME) {
        out[n].off = s.off;
        out[n].len = s.next - s.off;
        out[n].type = s.fh.type;
        out[n].nrecords = s.fh.nrecords;
        n++;
    }
    archive_scan_done(&s);
    close(dirfd);
    return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p;

    assert_non_null(f);
    *len = (size_t)file_size(path);
    p = malloc(*len ? *len : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

static void write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    fclose(f);
}

static void test_torn_tail(void **state)
{
    static const struct archive_writer_opts nokey = {.block_bytes = 8192};
    struct archive_verify_result res;
    struct archive_open_report rep;
    struct archive_writer *w;
    struct frame_pos fr[512];
    char seg[256];
    uint64_t size;
    size_t n;
    int fd;

    (void)state;
    write_records(0, 500, &nokey, 0);
    seg_path(0, seg, sizeof(seg));
    n = frames_of(0, fr, 512);
    assert_true(n > 3);
    size = file_size(seg);
    /* A crash in the middle of the last block's write. */
    assert_int_equal(truncate(seg, (off_t)(fr[n - 1].off + fr[n - 1].len / 2)), 0);
    expect_fault(ARCHIVE_FAULT_TORN, NULL, 0, &res);
    assert_int_equal(res.offset, fr[n - 1].off);
    assert_int_equal(res.records, 500 - fr[n - 1].nrecords);

    assert_int_equal(archive_writer_open(dir, &nokey, NULL, &w, &rep), 0);
    assert_int_equal(rep.dropped_bytes, fr[n - 1].len / 2);
    assert_int_equal(rep.dropped_records, fr[n - 1].nrecords);
    assert_int_equal(rep.dropped_unknown, 0);
    assert_string_equal(rep.segment, "seg-0000000000000000.hka");
    assert_int_equal(rep.records, 500 - fr[n - 1].nrecords);
    assert_int_equal(archive_writer_close(w), 0);
    assert_int_equal(file_size(seg), fr[n - 1].off);
    assert_true(file_size(seg) < size);
    expect_fault(ARCHIVE_FAULT_NONE, NULL, 0, &res);

    /* Zeros past the end (a file grown before its data reached the disk):
     * no frame header, torn, cut with an unknown count. */
    fd = open(seg, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    {
        uint8_t zeros[300] = {0};

        assert_int_equal(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
    }
    close(fd);
    expect_fault(ARCHIVE_FAULT_TORN, NULL, 0, &res);
    assert_int_equal(archive_writer_open(dir, &nokey, NULL, &w, &rep), 0);
    assert_int_equal(rep.dropped_bytes, 300);
    assert_int_equal(rep.dropped_unknown, 1);
    assert_int_equal(archive_writer_close(w), 0);
    expect_fault(ARCHIVE_FAULT_NONE, NULL, 0, &res);

    /* A crash while the next segment was being created: a few bytes of its
     * header.  It never held a frame; it goes, and the chain goes on. */
    seg_path(1, seg, sizeof(seg));
    write_file(seg, (const uint8_t *)ARCHIVE_SEG_MAGIC, 8);
    expect_fault(ARCHIVE_FAULT_SEGMENT, NULL, 0, &res);
    assert_int_equal(archive_writer_open(dir, &nokey, NULL, &w, &rep), 0);
    assert_int_equal(rep.dropped_bytes, 8);
    assert_string_equal(rep.segment, "seg-0000000000000001.hka");
    assert_int_equal(access(seg, F_OK), -1);
    {
        struct archive_record r = rec_for(999);

        assert_int_equal(archive_writer_append(w, &r), 0);
    }
    assert_int_equal(archive_writer_close(w), 0);
    expect_fault(ARCHIVE_FAULT_NONE, NULL, 0, &res);
    assert_int_equal(res.records, 501 - fr[n - 1].nrecords);
}

static void flip_byte(const char *path, uint64_t off)
{
    int fd = open(path, O_RDWR);
    uint8_t b;

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b ^= 0x20;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

static void test_flipped_byte(void **state)
{
    struct archive_verify_result res;
    struct frame_pos fr[512];
    char seg[256];

    (void)state;
    write_records(0, 1000, &small, 1);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 0, &res);
    seg_path(0, seg, sizeof(seg));
    assert_true(frames_of(0, fr, 512) > 3);
    /* In the compressed payload of the second frame. */
    flip_byte(seg, fr[1].off + ARCHIVE_FRAME_HDR_LEN + fr[1].len / 3);
    expect_fault(ARCHIVE_FAULT_HASH, pub, 0, &res);
    assert_string_equal(res.segment, "seg-0000000000000000.hka");
    assert_int_equal(res.offset, fr[1].off);
    assert_int_equal(res.frame, 1);
    /* In a frame header's time range: the header's own check. */
    flip_byte(seg, fr[1].off + ARCHIVE_FRAME_HDR_LEN + fr[1].len / 3);
    flip_byte(seg, fr[2].off + 41);
    expect_fault(ARCHIVE_FAULT_FRAME, pub, 0, &res);
    assert_int_equal(res.offset, fr[2].off);
}

/* Cuts bytes [off, off + len) out of a file. */
static void cut(const char *path, uint64_t off, uint64_t len)
{
    size_t n;
    uint8_t *p = read_file(path, &n);

    memmove(p + off, p + off + len, n - off - len);
    write_file(path, p, n - len);
    free(p);
}

static void test_removed_block(void **state)
{
    struct archive_verify_result res;
    struct frame_pos fr[512];
    char seg[256];

    (void)state;
    write_records(0, 1000, &small, 1);
    seg_path(0, seg, sizeof(seg));
    assert_true(frames_of(0, fr, 512) > 4);
    cut(seg, fr[2].off, fr[2].len);
    expect_fault(ARCHIVE_FAULT_CHAIN, pub, 0, &res);
    assert_int_equal(res.offset, fr[2].off);
    assert_int_equal(res.frame, 2);
}

static void test_reordered_blocks(void **state)
{
    struct archive_verify_result res;
    struct frame_pos fr[512];
    char seg[256];
    uint8_t *p, *q;
    size_t n;

    (void)state;
    write_records(0, 1000, &small, 1);
    seg_path(0, seg, sizeof(seg));
    assert_true(frames_of(0, fr, 512) > 4);
    p = read_file(seg, &n);
    q = malloc(fr[1].len + fr[2].len);
    assert_non_null(q);
    memcpy(q, p + fr[2].off, fr[2].len);
    memcpy(q + fr[2].len, p + fr[1].off, fr[1].len);
    memcpy(p + fr[1].off, q, fr[1].len + fr[2].len);
    write_file(seg, p, n);
    free(p);
    free(q);
    expect_fault(ARCHIVE_FAULT_CHAIN, pub, 0, &res);
    assert_int_equal(res.offset, fr[1].off);
}

static void test_segments_removed_or_swapped(void **state)
{
    struct archive_verify_result res;
    char a[256], b[256], c[256];

    (void)state;
    write_records(0, 2000, &tiny_segments, 1);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 0, &res);
    assert_true(res.segments >= 3);
    seg_path(1, a, sizeof(a));
    seg_path(2, b, sizeof(b));
    snprintf(c, sizeof(c), "%s/x", dir);
    /* Swapped file names: each header names its own number. */
    assert_int_equal(rename(a, c), 0);
    assert_int_equal(rename(b, a), 0);
    assert_int_equal(rename(c, b), 0);
    expect_fault(ARCHIVE_FAULT_SEGMENT, pub, 0, &res);
    assert_string_equal(res.segment, "seg-0000000000000001.hka");
    assert_int_equal(rename(a, c), 0);
    assert_int_equal(rename(b, a), 0);
    assert_int_equal(rename(c, b), 0);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 0, &res);
    assert_int_equal(unlink(a), 0);
    expect_fault(ARCHIVE_FAULT_SEGMENT, pub, 0, &res);
    assert_string_equal(res.segment, "seg-0000000000000001.hka");
}

static void test_truncated_tail(void **state)
{
    struct archive_verify_result res;
    struct archive_key *k;
    struct frame_pos fr[512];
    const char *why;
    char seg[256];
    uint64_t epoch;
    size_t n;

    (void)state;
    write_records(0, 1000, &small, 1);
    assert_int_equal(archive_key_load(keyp, &k, &why), 0);
    epoch = archive_key_epoch(k);
    archive_key_free(k);
    expect_fault(ARCHIVE_FAULT_NONE, pub, epoch, &res);
    /* Everything after the second-to-last seal cut, cleanly at a frame
     * boundary: the chain alone cannot tell... */
    seg_path(0, seg, sizeof(seg));
    n = frames_of(0, fr, 512);
    while (n > 0 && fr[n - 1].type != ARCHIVE_FRAME_SEAL)
        n--;
    n--;
    while (n > 0 && fr[n - 1].type != ARCHIVE_FRAME_SEAL)
        n--;
    assert_true(n > 0);
    assert_int_equal(truncate(seg, (off_t)(fr[n - 1].off + fr[n - 1].len)), 0);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 0, &res);
    /* ...but the key's epoch (or an exported seal) can. */
    expect_fault(ARCHIVE_FAULT_TRUNCATED, pub, epoch, &res);
    assert_int_equal(res.epoch + 1, epoch);
}

/*
 * Rewrites the whole archive with record 0's first byte changed and every
 * hash and link recomputed: what someone with write access but without the
 * key can do.  With `thief`, every seal is also re-signed with that key
 * (evolving it), as someone who stole the current key file would.
 */
static void rewrite(struct archive_key *thief)
{
    uint8_t head[ARCHIVE_HASH_LEN] = {0};
    uint64_t seq = 0;
    char seg[256];
    int changed = 0;

    for (;; seq++) {
        struct archive_seg_hdr sh;
        const char *why;
        uint8_t *p, *out;
        size_t n, off = ARCHIVE_SEG_HDR_LEN, o = ARCHIVE_SEG_HDR_LEN;

        seg_path(seq, seg, sizeof(seg));
        if (access(seg, F_OK) != 0)
            break;
        p = read_file(seg, &n);
        out = malloc(n + 65536);
        assert_non_null(out);
        assert_int_equal(archive_seg_hdr_decode(p, n, &sh, &why), 0);
        memcpy(sh.chain_in, head, sizeof(head));
        archive_seg_hdr_encode(&sh, out);
        while (off < n) {
            struct archive_frame_hdr fh;
            uint8_t hdr[ARCHIVE_FRAME_HDR_LEN], *payload, *mod = NULL;

            assert_int_equal(archive_frame_hdr_decode(p + off, n - off, &fh, &why), 0);
            payload = p + off + ARCHIVE_FRAME_HDR_LEN;
            off += ARCHIVE_FRAME_HDR_LEN + fh.payload_len;
            memcpy(fh.prev, head, sizeof(head));
            if (fh.type == ARCHIVE_FRAME_BLOCK && !changed) {
                uint8_t *raw = NULL;
                size_t cap = 0, z;

                assert_int_equal(archive_block_inflate(&fh, payload, &raw, &cap, &why), 0);
                raw[fh.raw_len - 1] ^= 1; /* the block's last line's last byte */
                mod = malloc(ZSTD_compressBound(fh.raw_len));
                z = ZSTD_compress(mod, ZSTD_compressBound(fh.raw_len), raw, fh.raw_len, 3);
                assert_false(ZSTD_isError(z));
                fh.codec = ARCHIVE_CODEC_ZSTD;
                fh.payload_len = (uint32_t)z;
                fh.index_len = 0; /* dropped: a block without an index is valid */
                payload = mod;
                free(raw);
                changed = 1;
            }
            archive_frame_hdr_encode(&fh, hdr);
            if (fh.type == ARCHIVE_FRAME_SEAL && thief) {
                struct archive_seal s;

                assert_int_equal(archive_seal_decode(payload, fh.payload_len, &s, &why), 0);
                assert_int_equal(archive_seal_sign(thief, &s, hdr, NULL, NULL), 0);
                mod = malloc(ARCHIVE_SEAL_LEN);
                archive_seal_encode(&s, mod);
                payload = mod;
            }
            archive_frame_finish(&fh, hdr, payload, fh.payload_len);
            memcpy(out + o, hdr, sizeof(hdr));
            memcpy(out + o + sizeof(hdr), payload, fh.payload_len);
            o += sizeof(hdr) + fh.payload_len;
            memcpy(head, fh.hash, sizeof(head));
            free(mod);
        }
        write_file(seg, out, o);
        free(out);
        free(p);
    }
    assert_true(changed);
}

static void test_rewrite_without_key(void **state)
{
    struct archive_verify_result res;
    struct frame_pos fr[512];
    size_t n, first_seal = 0;

    (void)state;
    write_records(0, 1000, &small, 1);
    rewrite(NULL);
    n = frames_of(0, fr, 512); /* where the rewrite put them */
    while (first_seal < n && fr[first_seal].type != ARCHIVE_FRAME_SEAL)
        first_seal++;
    assert_true(first_seal < n);
    /* Every hash and link holds; the first seal's signature does not. */
    expect_fault(ARCHIVE_FAULT_SEAL, pub, 0, &res);
    assert_int_equal(res.offset, fr[first_seal].off);
    assert_int_equal(res.seals, 0);
    assert_non_null(strstr(res.why, "does not verify"));
}

/* Copies the key file `from` to `to` relabelled as epoch `epoch` (the
 * layout of docs/archive.md: magic, epoch, seed, epoch 0's public key,
 * BLAKE2b-128 check of the 80 bytes before it). */
static void relabel_key(const char *from, const char *to, uint64_t epoch)
{
    size_t n;
    uint8_t *p = read_file(from, &n);

    assert_int_equal(n, 96);
    archive_put64(p + 8, epoch);
    crypto_generichash(p + 80, 16, p, 80, NULL, 0);
    write_file(to, p, n);
    free(p);
}

static void test_rewrite_with_stolen_key(void **state)
{
    struct archive_verify_result res;
    struct archive_key *thief;
    struct frame_pos fr[512];
    char stolen[160], forged[160];
    const char *why;
    size_t n, first_seal = 0;

    (void)state;
    write_records(0, 1000, &small, 1);
    /* The thief copies the key file as it is now (epoch E). */
    snprintf(stolen, sizeof(stolen), "%s/stolen.key", tmp);
    snprintf(forged, sizeof(forged), "%s/forged.key", tmp);
    relabel_key(keyp, forged, 0);
    {
        struct archive_key *k;

        assert_int_equal(archive_key_load(keyp, &k, &why), 0);
        relabel_key(keyp, stolen, archive_key_epoch(k));
        assert_true(archive_key_epoch(k) > 3);
        archive_key_free(k);
    }

    /* Re-signed as the key stands: seals of epochs E, E+1, ... */
    assert_int_equal(archive_key_load(stolen, &thief, &why), 0);
    rewrite(thief);
    archive_key_free(thief);
    n = frames_of(0, fr, 512);
    while (first_seal < n && fr[first_seal].type != ARCHIVE_FRAME_SEAL)
        first_seal++;
    assert_true(first_seal < n);
    expect_fault(ARCHIVE_FAULT_SEAL, pub, 0, &res);
    assert_int_equal(res.offset, fr[first_seal].off);
    assert_non_null(strstr(res.why, "where epoch 0 was due"));

    /* The stolen secret passed off as epoch 0's: valid signatures, but by
     * a key that is not epoch 0's public key. */
    assert_int_equal(archive_key_load(forged, &thief, &why), 0);
    rewrite(thief); /* (flips the byte back: the change now is the seals alone) */
    archive_key_free(thief);
    n = frames_of(0, fr, 512);
    for (first_seal = 0; first_seal < n && fr[first_seal].type != ARCHIVE_FRAME_SEAL;)
        first_seal++;
    assert_true(first_seal < n);
    expect_fault(ARCHIVE_FAULT_SEAL, pub, 0, &res);
    assert_int_equal(res.offset, fr[first_seal].off);
    assert_non_null(strstr(res.why, "not in the key chain"));
    /* Without the verification key only form is checked, and the forgery
     * holds together: the verification key is the anchor. */
    expect_fault(ARCHIVE_FAULT_NONE, NULL, 0, &res);
}

static void test_key_mismatch_and_crash_between_seal_and_key(void **state)
{
    struct archive_open_report rep;
    struct archive_writer *w;
    struct archive_key *k;
    struct archive_verify_result res;
    char old[160], other[160], otherpub[160], cmd[400];
    uint8_t opub[ARCHIVE_PUBKEY_LEN];
    struct archive_record r;
    const char *why;

    (void)state;
    write_records(0, 100, &small, 1);
    /* A key file one epoch behind the archive: the seal reached the disk,
     * the evolved key did not.  The writer catches it up. */
    snprintf(old, sizeof(old), "%s/old.key", tmp);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", keyp, old);
    assert_int_equal(system(cmd), 0);
    write_records(100, 200, &small, 1);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", old, keyp);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(archive_key_load(keyp, &k, &why), 0);
    assert_int_equal(archive_writer_open(dir, &small, k, &w, &rep), 0);
    r = rec_for(200);
    assert_int_equal(archive_writer_append(w, &r), 0);
    assert_int_equal(archive_writer_close(w), 0);
    archive_key_free(k);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 0, &res);
    assert_int_equal(res.records, 201);

    /* Another key chain is refused. */
    snprintf(other, sizeof(other), "%s/other.key", tmp);
    snprintf(otherpub, sizeof(otherpub), "%s/other.pub", tmp);
    assert_int_equal(archive_key_generate(other, otherpub, opub), 0);
    assert_int_equal(archive_key_load(other, &k, &why), 0);
    assert_int_equal(archive_writer_open(dir, &small, k, &w, &rep), -EKEYREJECTED);
    archive_key_free(k);
    /* And the archive verified against the other key fails at its first seal. */
    expect_fault(ARCHIVE_FAULT_SEAL, opub, 0, &res);
    assert_int_equal(res.seals, 0);
}

/* Seals by time: one when the oldest unsealed record is seal_us old at an
 * append, and one from the idle timer's tick. */
static void test_seal_by_time(void **state)
{
    static const struct archive_writer_opts o = {.seal_us = 100 * 1000};
    struct archive_verify_result res;
    struct archive_open_report rep;
    struct archive_writer *w;
    struct archive_key *k;
    const char *why;

    (void)state;
    assert_int_equal(archive_key_load(keyp, &k, &why), 0);
    assert_int_equal(archive_writer_open(dir, &o, k, &w, &rep), 0);
    /* rec_for(i) is i ms after the start: 100 records stay unsealed, the
     * 101st is 100 ms after the first and seals. */
    for (size_t i = 0; i < 100; i++) {
        struct archive_record r = rec_for(i);

        assert_int_equal(archive_writer_append(w, &r), 0);
    }
    assert_int_equal(archive_key_epoch(k), 0);
    {
        struct archive_record r = rec_for(100);

        assert_int_equal(archive_writer_append(w, &r), 0);
    }
    assert_int_equal(archive_key_epoch(k), 1);
    {
        struct archive_record r = rec_for(101);

        assert_int_equal(archive_writer_append(w, &r), 0);
    }
    assert_int_equal(archive_writer_tick(w, rec_for(101).recv_us + 99 * 1000), 0);
    assert_int_equal(archive_key_epoch(k), 1);
    assert_int_equal(archive_writer_tick(w, rec_for(101).recv_us + 100 * 1000), 0);
    assert_int_equal(archive_key_epoch(k), 2);
    assert_int_equal(archive_writer_close(w), 0); /* nothing left to seal */
    assert_int_equal(archive_key_epoch(k), 2);
    archive_key_free(k);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 2, &res);
    assert_int_equal(res.seals, 2);
    assert_int_equal(res.sealed_records, 102);
}

/* Records written without a key over several segments, then a writer
 * with the key: its first seal covers every record since the start, found
 * by walking back through the earlier segments. */
static void test_first_seal_covers_earlier_segments(void **state)
{
    static const struct archive_writer_opts nokey = {.block_bytes = 4096,
                                                     .segment_bytes = 8 * 1024};
    struct archive_verify_result res;

    (void)state;
    write_records(0, 1500, &nokey, 0);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 0, &res);
    assert_true(res.segments >= 3);
    assert_int_equal(res.seals, 0);
    write_records(1500, 1510, &nokey, 1);
    expect_fault(ARCHIVE_FAULT_NONE, pub, 1, &res);
    assert_int_equal(res.seals, 1);
    assert_int_equal(res.sealed_records, 1510);
}

static void test_bad_input(void **state)
{
    struct archive_open_report rep;
    struct archive_writer *w;
    struct archive_record r;
    char name[300];

    (void)state;
    assert_int_equal(archive_writer_open(dir, NULL, NULL, &w, &rep), 0);
    r = rec_for(0);
    memset(name, 'a', sizeof(name));
    r.input = name;
    r.input_len = ARCHIVE_INPUT_NAME_MAX + 1;
    assert_int_equal(archive_writer_append(w, &r), -EINVAL);
    r = rec_for(0);
    r.peer_family = 5;
    assert_int_equal(archive_writer_append(w, &r), -EINVAL);
    r = rec_for(0);
    r.raw_len = ARCHIVE_RECORD_MAX + 1;
    assert_int_equal(archive_writer_append(w, &r), -EINVAL);
    assert_int_equal(archive_writer_records(w), 0);
    assert_int_equal(archive_writer_close(w), 0);
    /* Keys: existing files are not overwritten; a bad key file is refused. */
    assert_int_equal(archive_key_generate(keyp, pubp, pub), -EEXIST);
    {
        struct archive_key *k;
        const char *why;

        write_file(keyp, (const uint8_t *)"not a key", 9);
        assert_int_equal(archive_key_load(keyp, &k, &why), -EBADMSG);
        assert_non_null(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reordered_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_removed_or_swapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_without_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_with_stolen_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_mismatch_and_crash_between_seal_and_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seal_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_seal_covers_earlier_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);

    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    return r;
}
