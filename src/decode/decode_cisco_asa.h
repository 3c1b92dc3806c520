/*
 * decode_cisco_asa.h - Cisco ASA and Firepower Threat Defense syslog
 * messages ("%ASA-6-302013: Built inbound TCP connection ...").
 *
 * Input: the message from its "%ASA-" or "%FTD-" marker on, which may sit
 * behind a prefix of up to DECODE_CISCO_ASA_SCAN bytes (the device's own
 * "Aug 06 2016 20:39:42: " timestamp, a "device-id : " name).  decode.c
 * passes it the syslog tag and message together when the tag is the marker
 * ("%ASA-6-302013" read as the program name).
 *
 * Every message gives observer.vendor/product, event.code (the message
 * id), event.severity and event.dataset (cisco.asa, cisco.ftd); the message
 * ids listed in docs/decoders.md also give addresses, ports, interfaces,
 * users, event.action and event.outcome.  Source is the side that opened
 * the connection (Cisco's "outbound" messages name the responder first).
 */
#ifndef HIKESHI_DECODE_DECODE_CISCO_ASA_H
#define HIKESHI_DECODE_DECODE_CISCO_ASA_H

#include "decode/decode.h"

/* How far into the input the marker is looked for. */
#define DECODE_CISCO_ASA_SCAN 96

int decode_cisco_asa(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr);

#endif
