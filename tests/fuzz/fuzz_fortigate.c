/*
 * fuzz_fortigate.c - libFuzzer target for decode_fortigate(): the input is
 * one FortiGate key=value record.  The checks are those of
 * fuzz_decoder.h.
 */
#include "decode/decode_fortigate.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_fortigate)
