/*
 * limits.h - every cap on a resource that untrusted input can grow.
 *
 * Kept in one place so that a reviewer can see at a glance how much memory a
 * hostile peer can make us hold.  Values are defaults; the ones marked
 * "configurable" can be changed in hikeshi.yaml within the stated bounds.
 */
#ifndef HIKESHI_UTIL_LIMITS_H
#define HIKESHI_UTIL_LIMITS_H

/* Longest syslog/file record kept, in bytes (configurable: max_line). Longer
 * records are truncated to this length and counted as truncated. */
#define LIMIT_LINE_DEFAULT (64 * 1024)
#define LIMIT_LINE_MIN 256
#define LIMIT_LINE_MAX (16 * 1024 * 1024)

/* Largest octet count accepted in RFC 6587 octet-counting framing before the
 * frame is treated as oversized (it is then read and truncated to the line
 * limit, never buffered whole). */
#define LIMIT_OCTET_COUNT_DIGITS 9

/* Distinct field names the interning dictionary will hold.  JSON keys come
 * from the wire, so without a cap an attacker could grow it forever. */
#define LIMIT_FIELD_NAMES 65536
/* Longest field name interned, in bytes. */
#define LIMIT_FIELD_NAME_LEN 256
/* Fields one event may carry; further fields are dropped and counted. */
#define LIMIT_EVENT_FIELDS 512
/* JSON nesting depth accepted by the JSON decoder. */
#define LIMIT_JSON_DEPTH 64
/* Columns of a Zeek TSV log's #fields header (Zeek's widest logs have
 * about 40); a header with more is refused.  Per-file decoder state:
 * LIMIT_DECODE_STREAMS files keep theirs at once in one pipeline. */
#define LIMIT_ZEEK_COLUMNS 256
#define LIMIT_DECODE_STREAMS 32
/* auditd's records held per stream to join one event's (decode_auditd.c):
 * serials open at once (the oldest is let go first), records and bytes of
 * one event (an execve with many PATH records or long arguments is emitted
 * in parts past these; auditd's own record cap is 8970 bytes), and how
 * much older than a new record's time an open serial may be before it is
 * taken as complete. */
#define LIMIT_AUDITD_JOIN_OPEN 8
#define LIMIT_AUDITD_JOIN_RECORDS 24
#define LIMIT_AUDITD_JOIN_BYTES (32 * 1024)
#define LIMIT_AUDITD_JOIN_WINDOW_MS 1000

/* Per-event arena: initial block size and the most one event may use. */
#define LIMIT_ARENA_BLOCK (16 * 1024)
#define LIMIT_ARENA_MAX (64 * 1024 * 1024)

/* TCP syslog connections open at once per input (configurable:
 * max_connections, up to LIMIT_TCP_CLIENTS_MAX); when full, the connection
 * idle longest is closed to admit a new one.  One address (an IPv6 /64)
 * may hold LIMIT_TCP_PER_ADDRESS of them (configurable: max_per_address);
 * further ones are refused.  A connection silent for LIMIT_TCP_IDLE_S is
 * closed (configurable: idle_timeout). */
#define LIMIT_TCP_CLIENTS 1024
#define LIMIT_TCP_CLIENTS_MAX 65536
#define LIMIT_TCP_PER_ADDRESS 64
#define LIMIT_TCP_IDLE_S 3600
/* Addresses and networks in one input's peers: list. */
#define LIMIT_INPUT_PEERS 256
/* GELF over UDP (input_gelf.c): a chunked message has at most 128 chunks
 * (the GELF 1.1 maximum); messages in reassembly at once per input, and the
 * bytes they hold together; an incomplete message is dropped after
 * LIMIT_GELF_REASM_S seconds (the specification's 5). */
#define LIMIT_GELF_CHUNKS 128
#define LIMIT_GELF_PENDING 256
#define LIMIT_GELF_PENDING_BYTES (16 * 1024 * 1024)
#define LIMIT_GELF_REASM_S 5
/* The Elasticsearch bulk input (input_http.c): a request body, after
 * gzip, is at most max_body (default LIMIT_BULK_BODY_DEFAULT, at most
 * LIMIT_BULK_BODY_MAX); one body holds at most LIMIT_BULK_ITEMS actions
 * (Filebeat sends 1600 a request by default, Vector and Fluent Bit fewer). */
#define LIMIT_BULK_BODY_DEFAULT (32 * 1024 * 1024)
#define LIMIT_BULK_BODY_MAX (256 * 1024 * 1024)
#define LIMIT_BULK_ITEMS 100000
/* Senders whose silence is watched (inputs[].expect_every), all inputs
 * together; senders past three quarters of it are not tracked. */
#define LIMIT_SILENCE_SOURCES 4096

/* The HTTP endpoint's connections (http.max_connections, max_per_address,
 * idle_timeout, request_timeout): a client may hold a few connections, all
 * clients together a few hundred (64 KiB each at most), and a request must
 * arrive whole within its deadline, so a slow sender cannot hold slots. */
#define LIMIT_HTTP_CONNECTIONS 256
#define LIMIT_HTTP_PER_ADDRESS 16
#define LIMIT_HTTP_IDLE_S 10
#define LIMIT_HTTP_REQUEST_S 15

/* Bounded queue between inputs and the pipeline, in batches (configurable:
 * pipeline.queue). */
#define LIMIT_QUEUE_DEFAULT 256
/* Bytes of record data in one batch before it is handed to the pipeline. */
#define LIMIT_BATCH_BYTES (256 * 1024)
/* Records in one batch. */
#define LIMIT_BATCH_RECORDS 1024

/* Config file size accepted, in bytes. */
#define LIMIT_CONFIG_BYTES (1024 * 1024)

/* Largest HTTP request body accepted by the API. */
#define LIMIT_HTTP_BODY (1024 * 1024)

/* Time zones (event/tz.c): longest IANA name, largest TZif file read, and
 * the counts one file may declare (tzdata's largest zones hold a few hundred
 * transitions and a dozen types; RFC 8536 allows at most 256 types). */
#define LIMIT_TZ_NAME_LEN 64
#define LIMIT_TZ_FILE_BYTES (256 * 1024)
#define LIMIT_TZ_TRANSITIONS 4096
#define LIMIT_TZ_TYPES 256
#define LIMIT_TZ_CHARS 256

/* Streams remembered for year inference (event/time_stream.c): one slot per
 * input and sender or file, overwritten on collision, so a flood of forged
 * senders costs a fixed amount of memory. */
#define LIMIT_TIME_STREAMS 4096

/* The archive (src/archive/, docs/archive.md): the most bytes one block
 * may decompress to (the largest record plus its neighbours: a reader
 * allocates this much at most, whatever a header claims), and the defaults
 * of a block's raw size and a segment's size. */
#define LIMIT_ARCHIVE_BLOCK_RAW (LIMIT_LINE_MAX + 1024 * 1024)
#define LIMIT_ARCHIVE_BLOCK_DEFAULT (1024 * 1024)
#define LIMIT_ARCHIVE_SEGMENT_DEFAULT (256ULL * 1024 * 1024)

/* API tokens (http.token_ttl, `hikeshi user token --ttl`): every token
 * expires, a month by default, a year at most, so a token that leaked into
 * a script or a log stops working on its own. */
#define LIMIT_TOKEN_TTL_DEFAULT (30 * 86400)
#define LIMIT_TOKEN_TTL_MIN 1
#define LIMIT_TOKEN_TTL_MAX (366 * 86400)

#endif
