/*
 * decode_winxml.h - Windows event XML: the records of EVTX files (as
 * libevtx renders them) and forwarded events (Windows Event Forwarding,
 * wevtutil qe /f:xml, NXLog's $raw_event).
 *
 * The shape understood:
 *   <Event xmlns="..."><System>...</System>
 *     <EventData><Data Name="X">v</Data>...</EventData>   (or <UserData>)
 *     [<RenderingInfo>...<Message>m</Message>...</RenderingInfo>]</Event>
 * with attributes quoted by ' or ", character data, the five predefined
 * entities, numeric character references, CDATA sections; comments and
 * processing instructions are skipped.  DOCTYPE is refused.  Element names
 * are taken as any run of non-markup bytes, even empty, because libevtx
 * renders the names of some templates that way (see read_name()).
 *
 * Fields set, under the names Sigma rules use:
 *   from System: each leaf element by its name (EventID, Version, Level,
 *     Task, Opcode, Keywords, EventRecordID, Channel, Computer), and
 *     Provider_Name, Provider_Guid, Provider_EventSourceName (Provider's
 *     attributes), ProcessID and ThreadID (Execution), SecurityUserID
 *     (Security UserID); TimeCreated SystemTime sets @timestamp;
 *   from EventData, UserData and any other section but RenderingInfo:
 *     each leaf element, named by its Name attribute when it has one (as
 *     <Data Name="X">), else by its element name (without namespace prefix):
 *     unnamed <Data> give "Data", repeated, and UserData's
 *     <LogFileCleared><SubjectUserName> gives SubjectUserName;
 *   from RenderingInfo: Message as "message".
 * A name that occurs twice keeps both values in order (a 104's UserData
 * Channel, the cleared log, follows System's Channel).
 * ECS aliases, as decode_json gives Windows JSON: event.code (EventID),
 * host.name (Computer), winlog.channel (System Channel),
 * winlog.provider_name (Provider_Name), process.command_line
 * (CommandLine), process.executable (Image), user.name (TargetUserName).
 * Values are views into the record unless an entity or CDATA had to be
 * decoded (then in the event's arena).  ev->decoder is set to "winxml".
 */
#ifndef HIKESHI_DECODE_DECODE_WINXML_H
#define HIKESHI_DECODE_DECODE_WINXML_H

#include <stddef.h>

#include "decode/decode.h"

/* Deepest element nesting accepted (Event is depth 1). */
#define DECODE_WINXML_DEPTH 32

/*
 * A decode_fn (see decode.h).  Returns -ENOENT when the record, after
 * optional whitespace, byte order mark and XML declaration, does not start
 * with an <Event> element; -EINVAL for malformed XML (unclosed or
 * mismatched tags, bad entities, unquoted attributes, nesting deeper than
 * DECODE_WINXML_DEPTH, data after the root element); -ENOMEM.  `ctx` gives
 * the zone for a SystemTime without one (never seen in practice: it is UTC).
 */
int decode_winxml(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr);

#endif
