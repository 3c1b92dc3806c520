/*
 * fuzz_mail.c - libFuzzer target for the mail decoders: every input is
 * given to decode_postfix(), decode_dovecot() and decode_exim() in turn
 * (each one syslog MSG part; Exim's also its own log line).  The checks are
 * those of fuzz_decoder.h.
 */
#include "decode/decode_mail.h"
#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder_run(decode_postfix, data, size);
    fuzz_decoder_run(decode_dovecot, data, size);
    fuzz_decoder_run(decode_exim, data, size);
    return 0;
}
