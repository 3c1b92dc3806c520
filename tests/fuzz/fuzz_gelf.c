/*
 * fuzz_gelf.c - the GELF datagram parser: the input is a sequence of
 * datagrams (each a 2-byte length, then that many bytes) from two senders
 * at advancing times, into a table with a small max_msg so that the caps,
 * the reassembly and the inflater's limit are all reached.  Checks that a
 * message never exceeds max_msg and that the table never holds more than
 * its cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "input/input_gelf.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MSG 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t peers[2][5] = {{4, 10, 0, 0, 1}, {4, 10, 0, 0, 2}};
    struct gelf_reasm *g = gelf_reasm_new(FUZZ_MAX_MSG);
    size_t i = 0;
    int64_t t = 1000000;

    if (!g)
        return 0;
    while (i + 2 <= size) {
        size_t len = ((size_t)data[i] << 8 | data[i + 1]) & 0x7fff;
        int who = data[i] >> 7;
        const char *m;
        size_t n;

        i += 2;
        if (len > size - i)
            len = size - i;
        if (gelf_reasm_datagram(g, data + i, len, peers[who], sizeof(peers[who]), t, &m, &n) ==
                1 &&
            n > FUZZ_MAX_MSG)
            abort();
        if (gelf_reasm_pending(g) > LIMIT_GELF_PENDING)
            abort();
        i += len;
        t += (int64_t)(len & 0xff) * 50000; /* sometimes past the timeout */
    }
    gelf_reasm_free(g);
    return 0;
}
