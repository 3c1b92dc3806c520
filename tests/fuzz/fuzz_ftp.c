/*
 * fuzz_ftp.c - libFuzzer target for the FTP decoders: every input is given
 * to decode_vsftpd() and decode_proftpd() in turn (one syslog MSG part or
 * log line).  The checks are those of fuzz_decoder.h.
 */
#include "decode/decode_ftp.h"
#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder_run(decode_vsftpd, data, size);
    fuzz_decoder_run(decode_proftpd, data, size);
    return 0;
}
