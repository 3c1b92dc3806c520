"""End to end: indicators in, sightings out (issue 20).

- `hikeshi intel import` reads a STIX 2.1 bundle written here (a C2 address
  and domain, a warninglisted public resolver, a pattern with AND that is
  refused as unsupported) and a MISP event (a C2 address, an attribute not
  for detection, a warninglisted resolver address), saying what it refused
  and why; a broken file for the same feed changes nothing.
- The daemon, started on that store, receives real-format netfilter (UFW)
  lines over UDP: the line to the C2 address raises the intel rule's alert
  carrying threat.indicator.* (type, value, provider, confidence, TLP);
  the line to the warninglisted resolver raises nothing and its event has
  no threat field.  The sighting is counted in the store (intel list).
- A feed imported while the daemon runs is matched after SIGHUP.
- URL patterns: a bundle with `url:value LIKE` (and a MATCHES whose regex
  Vectorscan refuses, reported with its id and the reason) imports as a
  url-pattern indicator holding the anchored regex; `hikeshi scan` of a
  combined-format web access log gives the line whose request target the
  pattern covers threat.indicator.* and the intel alert, and neither the
  line of another file in the same directory nor the one with the same
  path under another prefix (the LIKE is anchored).  The STIX export
  writes it back as a MATCHES pattern; the MISP export leaves it out.
- JA4: a plain list typed `ja4` (one upper-case fingerprint, one with a
  bad SNI mark, one raw ja4_r) and a STIX bundle with an `x-ja4` pattern
  import the two good ones lower-cased and refuse the others, naming the
  line and the part that is wrong; `hikeshi scan` of a Suricata EVE tls
  record (tls.ja4) and a Zeek ssl.log record of FoxIO's JA4 package (ja4,
  decoded as tls.client.ja4) gives each the intel alert with
  threat.indicator.* and the field that matched, and a record with
  another JA4 none.  STIX and CSV exports carry them; MISP leaves them out.
- The STIX examples of cti-documentation import without a crash, with
  their supported indicators counted.
"""

import json
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SHARED, Daemon, check, fields, finish, syslog_stamp,  # noqa: E402
                     wait_for)

WARN = os.path.join(SHARED, "data", "threat-intel", "misp-warninglists")
EXAMPLES = os.path.join(SHARED, "data", "threat-intel", "cti-documentation", "examples",
                        "example_json")
C2 = "185.141.62.90"       # the bundle's C2 address (no warninglist holds it)
C2_MISP = "91.219.236.18"  # the MISP event's
C2_LATE = "77.91.124.20"   # the feed imported while running
RESOLVER6 = "2001:4860:4860::8888"  # on the public-dns-v6 warninglist

YAML = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: fw
    type: syslog-udp
    listen: 127.0.0.1:{port}
intel:
  warninglists: %s
""" % WARN

BUNDLE = {
    "type": "bundle",
    "id": "bundle--2f6b3b7e-0b4e-4a53-9d0e-6a0c7f6f7d10",
    "objects": [
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--a1b2c3d4-0000-4000-8000-000000000001",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z",
         "pattern": "[ipv4-addr:value = '%s' OR domain-name:value = 'c2.bad-actor.example']" % C2,
         "confidence": 90,
         "kill_chain_phases": [{"kill_chain_name": "mitre-attack",
                                "phase_name": "command-and-control"}],
         "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--a1b2c3d4-0000-4000-8000-000000000002",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z",
         "pattern": "[ipv6-addr:value = '%s']" % RESOLVER6},
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--a1b2c3d4-0000-4000-8000-000000000003",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z",
         "pattern": "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef' AND "
                    "file:name = 'x.exe']"},
        {"type": "malware", "spec_version": "2.1",
         "id": "malware--a1b2c3d4-0000-4000-8000-0000000000aa",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "name": "Test RAT", "is_family": True},
        {"type": "relationship", "spec_version": "2.1",
         "id": "relationship--a1b2c3d4-0000-4000-8000-0000000000bb",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "relationship_type": "indicates",
         "source_ref": "indicator--a1b2c3d4-0000-4000-8000-000000000001",
         "target_ref": "malware--a1b2c3d4-0000-4000-8000-0000000000aa"},
    ],
}

MISP = {"Event": {
    "uuid": "c0ffee00-0000-4000-8000-000000000001", "info": "C2 seen by a peer CSIRT",
    "Tag": [{"name": "tlp:green"}],
    "Attribute": [
        {"uuid": "c0ffee00-0000-4000-8000-0000000000a1", "type": "ip-dst", "value": C2_MISP,
         "to_ids": True},
        {"uuid": "c0ffee00-0000-4000-8000-0000000000a2", "type": "ip-dst",
         "value": "93.184.216.34", "to_ids": False},
        {"uuid": "c0ffee00-0000-4000-8000-0000000000a3", "type": "ip-dst", "value": RESOLVER6,
         "to_ids": True},
    ]}}


# A LIKE on url:value (a web shell's request target under the upload
# directory) and a MATCHES whose regex does not compile.
URLPAT_BUNDLE = {
    "type": "bundle",
    "id": "bundle--2f6b3b7e-0b4e-4a53-9d0e-6a0c7f6f7d11",
    "objects": [
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--a1b2c3d4-0000-4000-8000-0000000000c1",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z", "confidence": 90,
         "pattern": "[url:value LIKE '/wp-content/uploads/%.php?cmd=%']"},
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--a1b2c3d4-0000-4000-8000-0000000000c2",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z", "confidence": 90,
         "pattern": "[url:value MATCHES '(shell\\\\.php']"},
    ],
}
JA4_EVE = "t13d1516h2_8daaf6152771_b186095e22b6"   # imported from a plain list
JA4_ZEEK = "t13d1715h2_5b57614c22b0_3d5424432f57"  # imported from a STIX bundle
JA4_OTHER = "t13d1516h2_8daaf6152771_02713d6af862"  # in no feed
JA4_BUNDLE = {
    "type": "bundle",
    "id": "bundle--6f1d1a3e-2b1c-4c55-8e1a-9a4b0c3d2e10",
    "objects": [
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--a1b2c3d4-0000-4000-8000-0000000000d1",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "pattern": "[network-traffic:extensions.'x-ja4'.value = '%s']" % JA4_ZEEK.upper(),
         "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z",
         "confidence": 85, "name": "C2 implant TLS client"},
    ],
}


def eve_tls(src, ja4):
    return json.dumps({
        "timestamp": "2026-12-07T17:40:01.123456+0000", "flow_id": 1352871093466183,
        "in_iface": "eth0", "event_type": "tls", "src_ip": src, "src_port": 49986,
        "dest_ip": "198.51.100.20", "dest_port": 443, "proto": "TCP",
        "tls": {"sni": "update.example.net", "version": "TLS 1.3",
                "ja3": {"hash": "e7d705a3286e19ea42f587b344ee6865",
                        "string": "771,4865-4866-4867,0-23-65281,29-23-24,0"},
                "ja4": ja4}})


def zeek_ssl(src, ja4):
    return json.dumps({
        "ts": 1796665201.5, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": src, "id.orig_p": 50112,
        "id.resp_h": "198.51.100.21", "id.resp_p": 443, "version": "TLSv13",
        "cipher": "TLS_AES_128_GCM_SHA256", "curve": "x25519", "server_name": "cdn.example.net",
        "resumed": False, "established": True, "ja4": ja4})


URLPAT_REGEX = r"^/wp-content/uploads/.*\.php\?cmd=.*$"
ACCESS_HIT = "/wp-content/uploads/2026/12/shell.php?cmd=id"
ACCESS = [
    '203.0.113.7 - - [07/Dec/2026:17:30:00 +0000] "GET %s HTTP/1.1" 200 512 "-" '
    '"curl/8.4.0"' % ACCESS_HIT,
    '203.0.113.7 - - [07/Dec/2026:17:30:01 +0000] "GET /wp-content/uploads/2026/12/logo.png '
    'HTTP/1.1" 200 4096 "-" "Mozilla/5.0"',
    '203.0.113.7 - - [07/Dec/2026:17:30:02 +0000] "GET /blog/wp-content/uploads/a.php?cmd=ls '
    'HTTP/1.1" 404 0 "-" "curl/8.4.0"',
]


def intel(d, *args):
    r = subprocess.run([BIN, "intel"] + list(args) + ["-c", d.conf], capture_output=True,
                       text=True)
    return r.returncode, r.stdout, r.stderr


def ufw_line(src, dst):
    v6 = ":" in dst
    return ("<4>%s fw01 kernel: [2017913.737300] [UFW BLOCK] IN=eth1 OUT=eth0 "
            "MAC=52:54:00:40:06:06:00:1b:21:7f:10:c2:08:00 SRC=%s DST=%s LEN=60 "
            "%sPROTO=TCP SPT=49986 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0"
            % (syslog_stamp(), src, dst, "TC=0 HOPLIMIT=64 FLOWLBL=0 " if v6
               else "TOS=0x00 PREC=0x00 TTL=63 ID=26624 DF "))


def send(d, line):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(line.encode(), ("127.0.0.1", d.port))
    s.close()


def intel_alerts(d):
    return [a for a in d.alerts() if (a["rule_id"] or "").startswith("8f3c1e52-")]


def sightings(d, value):
    rc, out, _ = intel(d, "list", "--json")
    for line in out.splitlines():
        row = json.loads(line)
        if row["value"] == value:
            return row
    return None


def main():
    d = Daemon(YAML)
    bundle = os.path.join(d.dir, "c2.json")
    with open(bundle, "w") as f:
        json.dump(BUNDLE, f)
    misp = os.path.join(d.dir, "peer-event.json")
    with open(misp, "w") as f:
        json.dump(MISP, f)

    rc, out, err = intel(d, "import", bundle)
    check(rc == 0, "the STIX bundle imports (%s)" % out.strip())
    check("2 indicators imported, 1 refused, 1 on warninglists" in out,
          "the bundle's counts: 2 taken, the AND pattern refused, the resolver warned")
    check("indicator--a1b2c3d4-0000-4000-8000-000000000003 pattern byte" in err and "AND" in err,
          "the AND pattern is reported with its object id and why")
    check(RESOLVER6 in err and "warninglist" in err, "the warninglisted resolver is reported")
    rc, out, err = intel(d, "import", "--feed", "peer", misp)
    check(rc == 0 and "1 indicators imported" in out and "1 on warninglists" in out,
          "the MISP event imports its one detection attribute (%s)" % out.strip())

    broken = os.path.join(d.dir, "broken.json")
    with open(broken, "w") as f:
        f.write('{"type": "bundle", "objects": [{"type": "indicator", ')
    rc, out, err = intel(d, "import", "--feed", "c2", broken)
    check(rc == 1 and "left as it was" in err, "a broken file for the feed fails (%s)"
          % err.strip())
    check(sightings(d, C2) is not None, "and the feed's indicators are still held")
    row = sightings(d, C2)
    check(row and row["tlp"] == "AMBER" and row["confidence"] == 90 and
          "malware:Test RAT" in row["tags"] and "phase:command-and-control" in row["tags"],
          "the C2 address keeps its TLP, confidence and tags: %s" % (row,))
    check(sightings(d, RESOLVER6) is None, "the resolver never became an indicator")

    d.start()
    check(wait_for(lambda: "intel: 3 indicators loaded" in d.read_log(), 10),
          "the daemon loads the 3 indicators (the bundle's 2, the event's 1)")
    send(d, ufw_line("10.0.1.49", C2))
    send(d, ufw_line("2001:db8::49", RESOLVER6))
    send(d, ufw_line("10.0.1.50", "93.184.216.34"))
    check(wait_for(lambda: len(d.events()) >= 3, 10), "the three lines are stored")
    check(wait_for(lambda: len(intel_alerts(d)) >= 1, 10), "the C2 line raises the intel alert")
    al = intel_alerts(d)
    check(len(al) == 1, "exactly one intel alert (got %d)" % len(al))
    if al:
        f = fields(al[0])
        check(f.get("threat.indicator.type") == "ipv4" and
              f.get("threat.indicator.value") == C2 and
              f.get("threat.indicator.provider") == "c2" and
              f.get("threat.indicator.confidence") == "High" and
              f.get("threat.indicator.marking.tlp") == "AMBER" and
              f.get("threat.enrichments.matched.field") == "destination.ip",
              "the alert carries threat.indicator.*: %s" %
              {k: v for k, v in f.items() if k.startswith("threat.")})
        check(al[0]["rule_level"] == "high",
              "at the level of a High confidence (%s)" % al[0]["rule_level"])
    for ev in d.events():
        f = fields(ev)
        if f.get("destination.ip") == RESOLVER6:
            check(not any(k.startswith("threat.") for k in f),
                  "the warninglisted resolver's event has no threat field")
        if f.get("destination.ip") == "93.184.216.34":
            check(not any(k.startswith("threat.") for k in f),
                  "an address only in a not-for-detection attribute matches nothing")

    # A feed imported while running is matched after a reload.
    late = os.path.join(d.dir, "late.txt")
    with open(late, "w") as f:
        f.write("# one address a line\n%s\n" % C2_LATE)
    rc, out, err = intel(d, "import", "--feed", "late", "--tlp", "GREEN", late)
    check(rc == 0 and "1 indicators imported" in out, "a plain list imports while running")
    d.signal(signal.SIGHUP)
    check(wait_for(lambda: "intel: 4 indicators loaded" in d.read_log(), 10),
          "SIGHUP reloads the indicators")
    send(d, ufw_line("10.0.1.51", C2_LATE))
    check(wait_for(lambda: len(intel_alerts(d)) >= 2, 10), "the new indicator matches")
    rc = d.stop()
    check(rc == 0, "the daemon stops cleanly")

    row = sightings(d, C2)
    check(row and row["sightings"] == 1 and row["sources"] == "fw=1",
          "the C2 address's sighting is counted, from input fw: %s" % (row,))
    row = sightings(d, C2_LATE)
    check(row and row["sightings"] == 1 and row["tlp"] == "GREEN",
          "so is the late one's: %s" % (row,))
    row = sightings(d, C2_MISP)
    check(row and row["sightings"] == 0 and row["tlp"] == "GREEN",
          "the MISP address, never seen, has none and the event's TLP: %s" % (row,))

    # hikeshi scan matches the indicators of the configuration's data_dir
    # (no --store needed), and none with --intel none.
    log = os.path.join(d.dir, "fw.log")
    with open(log, "w") as f:
        f.write(ufw_line("10.0.1.50", C2) + "\n" + ufw_line("10.0.1.50", "10.9.9.9") + "\n")

    def scan(*extra):
        r = subprocess.run([BIN, "scan", "-c", d.conf, "--format", "jsonl"] + list(extra) + [log],
                           capture_output=True, text=True)
        return r.returncode, [json.loads(x) for x in r.stdout.splitlines() if x.strip()], r.stderr
    rc, rows, err = scan()
    def is_intel(a):
        return (a.get("rule") or {}).get("id", "").startswith("8f3c1e52-")
    hit = [a for a in rows if is_intel(a)]
    check(rc == 0 and len(hit) == 1 and hit[0]["fields"].get("threat.indicator.value") == C2
          and hit[0]["fields"].get("destination.ip") == C2,
          "scan matches the data_dir's indicators: one intel alert, on the C2 line: %s %s"
          % ([h["fields"].get("threat.indicator.value") for h in hit], err.strip()[-120:]))
    rc, rows, err = scan("--intel", "none")
    check(rc == 0 and len(rows) >= 1 and not [a for a in rows if is_intel(a)]
          and not any("threat.indicator.value" in a["fields"] for a in rows),
          "scan --intel none matches no indicator (other rules still alert: %d)" % len(rows))
    rc, rows, err = scan("--intel", os.path.join(d.dir, "nowhere"))
    check(rc == 2 and "no store there" in err, "scan --intel DIR without a store is refused: %s"
          % err.strip())

    # URL patterns: STIX LIKE and MATCHES on url:value.
    upat = os.path.join(d.dir, "webshell.json")
    with open(upat, "w") as f:
        json.dump(URLPAT_BUNDLE, f)
    rc, out, err = intel(d, "import", "--feed", "webshell", upat)
    check(rc == 0 and "1 indicators imported, 1 refused" in out,
          "the URL pattern bundle imports its LIKE, refuses the bad regex (%s)" % out.strip())
    check("indicator--a1b2c3d4-0000-4000-8000-0000000000c2" in err and "(shell" in err
          and "Vectorscan" in err and "parenthesis" in err,
          "the regex Vectorscan refuses is named with its object id and why: %s" % err.strip())
    row = sightings(d, URLPAT_REGEX)
    check(row is not None and row["type"] == "url-pattern",
          "the LIKE is stored as url-pattern %s: %s" % (URLPAT_REGEX, row))
    log = os.path.join(d.dir, "access.log")
    with open(log, "w") as f:
        f.write("\n".join(ACCESS) + "\n")
    rc, rows, err = scan()
    hit = [a for a in rows if is_intel(a)]
    check(rc == 0 and len(hit) == 1
          and hit[0]["fields"].get("url.original") == ACCESS_HIT
          and hit[0]["fields"].get("threat.indicator.type") == "url-pattern"
          and hit[0]["fields"].get("threat.indicator.value") == URLPAT_REGEX
          and hit[0]["fields"].get("threat.indicator.provider") == "webshell"
          and hit[0]["fields"].get("threat.indicator.confidence") == "High"
          and hit[0]["fields"].get("threat.enrichments.matched.field") == "url.original",
          "scan: the web shell request carries threat.indicator.* of the URL pattern: %s %s"
          % ([(h["fields"].get("url.original"), h["fields"].get("threat.indicator.value"))
              for h in hit], err.strip()[-160:]))
    check(not any("threat.indicator.value" in a["fields"] and
                  a["fields"].get("url.original") != ACCESS_HIT for a in rows),
          "the image and the request under another prefix carry no threat field")
    # It leaves as a STIX MATCHES pattern; MISP has no type for it.
    rc, out, err = intel(d, "export", "--format", "stix", "--tlp-max", "AMBER")
    pats = [o.get("pattern") for o in json.loads(out)["objects"] if o["type"] == "indicator"] \
        if rc == 0 else []
    want = "[url:value MATCHES '%s']" % URLPAT_REGEX.replace("\\", "\\\\")
    check(want in pats, "the URL pattern exports as %s" % want)
    rc, out, err = intel(d, "export", "--format", "misp", "--tlp-max", "AMBER")
    check(rc == 0 and "wp-content" not in out and "URL pattern" in err,
          "MISP export leaves it out and says so: %s" % err.strip())

    # JA4: a plain list typed ja4 and a STIX x-ja4 pattern.
    jlist = os.path.join(d.dir, "ja4.txt")
    with open(jlist, "w") as f:
        f.write("# JA4 of a loader\n%s\nt13x1516h2_8daaf6152771_b186095e22b6\n"
                "t13d0303h2_1301,1302,1303_000a,000b,000d_0403,0804\n" % JA4_EVE.upper())
    rc, out, err = intel(d, "import", "--feed", "ja4-list", "--type", "ja4", jlist)
    check(rc == 0 and "1 indicators imported, 2 refused" in out,
          "the JA4 list imports one, refuses two (%s)" % out.strip())
    check("line 3" in err and "SNI" in err and "line 4" in err and "raw JA4" in err,
          "the bad SNI mark and the raw form are named with their lines: %s" % err.strip())
    jb = os.path.join(d.dir, "ja4.json")
    with open(jb, "w") as f:
        json.dump(JA4_BUNDLE, f)
    rc, out, err = intel(d, "import", "--feed", "ja4-stix", jb)
    check(rc == 0 and "1 indicators imported" in out, "the x-ja4 pattern imports (%s %s)"
          % (out.strip(), err.strip()))
    for v in (JA4_EVE, JA4_ZEEK):
        row = sightings(d, v)
        check(row is not None and row["type"] == "ja4", "stored lower-cased as ja4: %s" % (row,))
    eve = os.path.join(d.dir, "eve.json")
    with open(eve, "w") as f:
        f.write(eve_tls("10.0.1.50", JA4_EVE) + "\n" + eve_tls("10.0.1.52", JA4_OTHER) + "\n")
    ssl = os.path.join(d.dir, "ssl.log")
    with open(ssl, "w") as f:
        f.write(zeek_ssl("10.0.1.51", JA4_ZEEK) + "\n" + zeek_ssl("10.0.1.53", JA4_OTHER) + "\n")
    r = subprocess.run([BIN, "scan", "-c", d.conf, "--format", "jsonl", eve, ssl],
                       capture_output=True, text=True)
    rows = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    hit = sorted(((a["fields"].get("threat.indicator.value"),
                   a["fields"].get("threat.enrichments.matched.field"),
                   a["fields"].get("threat.indicator.type"),
                   a["fields"].get("threat.indicator.provider"))
                  for a in rows if is_intel(a)), key=str)
    check(r.returncode == 0 and hit == [(JA4_EVE, "tls.ja4", "ja4", "ja4-list"),
                                        (JA4_ZEEK, "tls.client.ja4", "ja4", "ja4-stix")],
          "scan: the EVE tls record matches on tls.ja4, the Zeek ssl record on "
          "tls.client.ja4: %s %s" % (hit, r.stderr.strip()[-160:]))
    check(not any(JA4_OTHER in json.dumps(a["fields"].get("threat.indicator.value", ""))
                  or a["fields"].get("source.ip") in ("10.0.1.52", "10.0.1.53")
                  and "threat.indicator.value" in a["fields"] for a in rows),
          "the records with another JA4 carry no threat field")
    rc, out, err = intel(d, "export", "--format", "stix", "--tlp-max", "AMBER")
    pats = [o.get("pattern") for o in json.loads(out)["objects"] if o["type"] == "indicator"] \
        if rc == 0 else []
    want = "[network-traffic:extensions.'x-ja4'.value = '%s']" % JA4_ZEEK
    check(want in pats, "the JA4 exports as %s" % want)
    rc, out, err = intel(d, "export", "--format", "csv", "--tlp-max", "AMBER")
    check(rc == 0 and ("\nja4,%s,ja4-list," % JA4_EVE) in out, "CSV export has the ja4 row")
    rc, out, err = intel(d, "export", "--format", "misp", "--tlp-max", "AMBER")
    check(rc == 0 and JA4_EVE not in out and "JA4" in err,
          "MISP export leaves JA4 out and says so: %s" % err.strip())

    # The OASIS STIX examples: no crash, their supported indicators counted.
    total = 0
    for name in sorted(os.listdir(EXAMPLES)):
        rc, out, err = intel(d, "import", "-q", "--feed", "ex-" + name,
                             os.path.join(EXAMPLES, name))
        check(rc in (0, 1) and "Sanitizer" not in err and "Segmentation" not in err,
              "%s imports or is refused cleanly (rc %d)" % (name, rc))
        if rc == 0:
            total += int(out.split("): ")[1].split(" ")[0])
    # apt1 (10), the malicious URL (1), the file hash (1), poisonivy (its
    # addresses and domains not on the dynamic-DNS list), a sighting's (1)
    check(total >= 40, "the examples give %d supported indicators" % total)
    finish()


if __name__ == "__main__":
    main()
