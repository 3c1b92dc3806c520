/*
 * fuzz_snort.c - libFuzzer target for decode_snort(): the input is one line
 * (or one syslog message).  The checks are those of fuzz_decoder.h.
 */
#include "decode/decode_snort.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_snort)
