/*
 * decode_zeek.h - the Elastic Common Schema names of a Zeek log record,
 * shared by the two forms Zeek writes: JSON (decode_json.c) and its
 * default tab-separated format (decode_zeek_tsv.c).
 *
 * Both decoders first add every column under Zeek's own name (id.orig_h,
 * query, status_code, ...), then call decode_zeek_ecs(), so a record gives
 * the same fields in either form.  The names added, per log stream:
 *   any:    source.ip/port (id.orig_h/p or id_orig_h/p), destination.ip/port
 *           (id.resp_h/p), network.transport (proto, lowercased),
 *           event.dataset "zeek.STREAM";
 *   conn:   source.bytes/destination.bytes (orig_ip_bytes, else
 *           orig_bytes; resp_*), source.packets, destination.packets,
 *           network.protocol (service);
 *   dns:    dns.question.name/type/class, dns.response_code, dns.id,
 *           event.outcome (success for NOERROR, else failure);
 *   http:   http.request.method, http.response.status_code,
 *           url.original/path/query (uri), url.domain (host),
 *           user_agent.original, http.request.referrer, http.version,
 *           http.request.body.bytes, http.response.body.bytes, user.name
 *           (username), event.outcome (failure from status 400 on);
 *   ssl:    tls.version and tls.version_protocol ("TLSv12" -> "1.2", "tls"),
 *           tls.cipher, tls.curve, tls.client.server_name, tls.resumed,
 *           tls.established, tls.next_protocol, tls.server.subject/issuer,
 *           tls.client.ja3, tls.server.ja3s, tls.client.ja4 and
 *           tls.server.ja4s (FoxIO's JA4 package), event.outcome
 *           (established);
 *   notice: rule.name (note), message (msg), source.ip (src),
 *           destination.ip (dst), destination.port (p), event.kind "alert";
 *   weird:  rule.name (name);
 *   files:  file.hash.md5/sha1/sha256, file.mime_type, file.name,
 *           file.size (total_bytes, else seen_bytes), source.ip (the first
 *           of tx_hosts), destination.ip (the first of rx_hosts);
 *   radius: user.name (username), event.outcome (result);
 *   ssh:    event.outcome (auth_success);
 *   ftp:    user.name (user).
 * A name already set (an exporter's own ECS field) is left alone.
 */
#ifndef HIKESHI_DECODE_DECODE_ZEEK_H
#define HIKESHI_DECODE_DECODE_ZEEK_H

#include <stddef.h>

struct event;

/*
 * Adds the names above to `ev`, whose Zeek columns are already fields.
 * `stream` (n bytes) is the log's path ("conn", "dns", ...); NULL when the
 * record does not say, in which case the stream is inferred from a column
 * only it has (conn_state, qtype_name, note, cipher, uri, fuid,
 * auth_success) and event.dataset is set from that.  Booleans are expected
 * as "true"/"false" (JSON's words; the TSV decoder translates T/F).
 * Returns 0 or -ENOMEM.
 */
int decode_zeek_ecs(struct event *ev, const char *stream, size_t n);

#endif
