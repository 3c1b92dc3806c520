/*
 * fuzz_mikrotik.c - libFuzzer target for decode_mikrotik(): the input is
 * one RouterOS firewall log message (the syslog MSG part).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_mikrotik.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_mikrotik)
