/*
 * fuzz_bind.c - libFuzzer target for decode_bind(): the input is one named
 * message (a syslog MSG part, or a line of named's own log file).  The
 * checks are those of fuzz_decoder.h.
 */
#include "decode/decode_bind.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_bind)
