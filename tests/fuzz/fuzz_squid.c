/*
 * fuzz_squid.c - libFuzzer target for decode_squid(): the input is one line
 * (or one syslog message).  The checks are those of fuzz_decoder.h.
 */
#include "decode/decode_squid.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_squid)
