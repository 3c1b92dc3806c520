/*
 * decode_snort.h - Snort and Suricata alerts in their text forms:
 *
 *   fast.log (Snort's alert_fast, Suricata's fast.log, with or without the
 *   year, Suricata's "[Drop]"/"[wDrop]" verdict):
 *     01/27/16-16:01:04.877970  [**] [129:12:1] Consecutive TCP small segments
 *     exceeding threshold [**] [Classification: Potentially Bad Traffic]
 *     [Priority: 2] {TCP} 10.0.2.2:56642 -> 10.0.2.15:22
 *   the syslog alert (Snort's alert_syslog, the message after the tag):
 *     [1:2000:1] MSG [Classification: X] [Priority: 2]: <eth0> {TCP} a:p -> b:q
 *   Snort's alert_csv in its default column order (timestamp, sig_generator,
 *   sig_id, sig_rev, msg, proto, src, srcport, dst, dstport, ethsrc, ethdst,
 *   ethlen, tcpflags, tcpseq, tcpack, tcplen, tcpwindow, ttl, tos, id,
 *   dgmlen, iplen, icmptype, icmpcode, icmpid, icmpseq), as Apache Metron's
 *   sample holds it.
 *
 * Fields: rule.id (sid), rule.version (rev), snort.gid, rule.name (the
 * message), rule.category (classification), event.severity (priority),
 * network.transport (lowercased), source/destination ip and port,
 * source/destination.mac, tcp.flags, icmp.type/code, ip.ttl, the alert's
 * time (local time in the context's zone; a yearless one placed by the
 * stream's reference), event.kind alert, event.action alert, drop or
 * wdrop, event.dataset snort.alert.
 */
#ifndef HIKESHI_DECODE_DECODE_SNORT_H
#define HIKESHI_DECODE_DECODE_SNORT_H

#include "decode/decode.h"

int decode_snort(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr);

#endif
