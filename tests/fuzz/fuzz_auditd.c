/*
 * fuzz_auditd.c - libFuzzer target for decode_auditd(): the input is one
 * audit record (an audit.log line, or a syslog MSG part).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_auditd.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_auditd)
