/*
 * fuzz_vpn.c - libFuzzer target for the remote-access decoders: every input
 * is given to decode_openvpn(), decode_strongswan() and decode_freeradius()
 * in turn (each one syslog MSG part).  The checks are those of
 * fuzz_decoder.h.
 */
#include "decode/decode_vpn.h"
#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder_run(decode_openvpn, data, size);
    fuzz_decoder_run(decode_strongswan, data, size);
    fuzz_decoder_run(decode_freeradius, data, size);
    return 0;
}
