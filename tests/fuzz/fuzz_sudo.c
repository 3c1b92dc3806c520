/*
 * fuzz_sudo.c - libFuzzer target for decode_sudo(): the input is one record
 * (for sshd, sudo and netfilter: one syslog MSG part).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_sudo.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_sudo)
