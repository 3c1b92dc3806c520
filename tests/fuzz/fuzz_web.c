/*
 * fuzz_web.c - libFuzzer target for the web decoders: every input goes
 * through both the access-log and the error-log decoder, with the checks
 * of fuzz_decoder.h.
 */
#include "decode/decode_web.h"
#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder_run(decode_web_access, data, size);
    fuzz_decoder_run(decode_web_error, data, size);
    return 0;
}
