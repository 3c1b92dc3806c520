/*
 * fuzz_srx.c - libFuzzer target for decode_srx() on message bytes alone
 * (the BSD form's text; the structured-data form reads fields that
 * decode_rfc5424, fuzzed by fuzz_rfc5424, made).  The checks are those of
 * fuzz_decoder.h.
 */
#include "decode/decode_srx.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_srx)
