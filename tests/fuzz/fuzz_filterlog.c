/*
 * fuzz_filterlog.c - libFuzzer target for decode_filterlog(): the input is
 * one filterlog CSV message (the syslog MSG part).  The checks are those of
 * fuzz_decoder.h.
 */
#include "decode/decode_filterlog.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_filterlog)
