/*
 * fuzz_winxml.c - libFuzzer target for decode_winxml (Windows event XML).
 */
#include "decode/decode_winxml.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_winxml)
