/*
 * fuzz_panos.c - libFuzzer target for decode_panos(): the input is one
 * PAN-OS CSV message (the syslog MSG part).  The checks are those of
 * fuzz_decoder.h.
 */
#include "decode/decode_panos.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_panos)
