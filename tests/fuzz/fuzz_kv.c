/*
 * fuzz_kv.c - libFuzzer target for decode_kv(): the input is one record
 * (for sshd, sudo and netfilter: one syslog MSG part).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_kv.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_kv)
