/*
 * fuzz_cisco_asa.c - libFuzzer target for decode_cisco_asa(): the input is
 * one ASA/FTD message (from its "%ASA-" marker, or behind a short prefix).
 * The checks are those of fuzz_decoder.h.
 */
#include "decode/decode_cisco_asa.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_cisco_asa)
