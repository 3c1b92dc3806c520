/*
 * fuzz_rfc5424.c - libFuzzer target for decode_rfc5424(): the input is one record
 * (for sshd, sudo and netfilter: one syslog MSG part).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_rfc5424.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_rfc5424)
