/*
 * fuzz_rfc3164.c - libFuzzer target for decode_rfc3164(): the input is one record
 * (for sshd, sudo and netfilter: one syslog MSG part).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_rfc3164.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_rfc3164)
