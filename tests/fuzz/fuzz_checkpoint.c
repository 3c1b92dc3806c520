/*
 * fuzz_checkpoint.c - libFuzzer target for decode_checkpoint(): the input
 * is one whole record (its syslog header goes through decode_rfc5424 or
 * decode_rfc3164, linked in).  The checks are those of fuzz_decoder.h.
 */
#include "decode/decode_checkpoint.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_checkpoint)
