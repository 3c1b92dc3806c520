/*
 * fuzz_db.c - libFuzzer target for the database decoders: every input is
 * given to decode_mysql() and decode_postgres() in turn (one syslog MSG
 * part or error-log line).  The checks are those of fuzz_decoder.h.
 */
#include "decode/decode_db.h"
#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder_run(decode_mysql, data, size);
    fuzz_decoder_run(decode_postgres, data, size);
    return 0;
}
