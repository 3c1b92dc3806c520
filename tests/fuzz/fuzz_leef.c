/*
 * fuzz_leef.c - libFuzzer target for decode_leef(): the input is one record
 * (for sshd, sudo and netfilter: one syslog MSG part).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_leef.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_leef)
