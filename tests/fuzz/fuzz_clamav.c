/*
 * fuzz_clamav.c - libFuzzer target for decode_clamav(): the input is one
 * ClamAV message (a syslog MSG part, or a clamd.log/clamscan line).  The
 * checks are those of fuzz_decoder.h.
 */
#include "decode/decode_clamav.h"
#include "fuzz_decoder.h"

FUZZ_DECODER(decode_clamav)
