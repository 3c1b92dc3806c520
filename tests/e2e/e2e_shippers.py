"""End to end: the shippers' protocols (issue 21).  The real daemon with
GELF over UDP (plain, zlib, gzip, chunked out of order with a duplicate)
and TCP (NUL-delimited), JSON lines over TCP, each record checked decoded
(stored fields) and matched (an alert by a rule written for the test), and
a sender outside an input's peers refused."""

import gzip
import json
import os
import socket
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, check, fields, finish, free_port, wait_for  # noqa: E402

RULE = """title: shippers e2e marker
id: 9d7c7f4e-2b8e-4f57-a3c9-5b1e2f3a4c61
status: test
logsource:
    product: linux
    service: sshd
detection:
    selection:
        message|contains: 'shipmark-'
    condition: selection
level: medium
"""

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: gelf-udp
    type: gelf-udp
    listen: 127.0.0.1:%(gu)d
  - name: gelf-tcp
    type: gelf-tcp
    listen: 127.0.0.1:%(gt)d
  - name: json-tcp
    type: json-tcp
    listen: 127.0.0.1:%(jt)d
  - name: json-closed
    type: json-tcp
    listen: 127.0.0.1:%(jc)d
    peers: [192.0.2.1]
sigma:
  rules: [{src}/rules, {dir}/rules]
  mappings: {src}/rules/config
"""


def gelf(mark, **extra):
    m = {"version": "1.1", "host": "web-%s" % mark,
         "short_message": "Failed password for root from 203.0.113.9 port 51022 ssh2 shipmark-%s"
         % mark,
         "timestamp": 1767225600.25, "level": 4, "_process.name": "sshd",
         "_source.ip": "203.0.113.9", "_container": "c-%s" % mark}
    m.update(extra)
    return json.dumps(m).encode()


def by_mark(rows):
    out = {}
    for r in rows:
        f = fields(r)
        msg = f.get("message", "")
        if isinstance(msg, list):
            msg = msg[0]
        if "shipmark-" in msg:
            out[msg.split("shipmark-")[1]] = (r, f)
    return out


def main():
    ports = {"gu": free_port(socket.SOCK_DGRAM), "gt": free_port(), "jt": free_port(),
             "jc": free_port()}
    d = Daemon(CONFIG % ports)
    os.makedirs(os.path.join(d.dir, "rules"))
    with open(os.path.join(d.dir, "rules", "shippers_marker.yml"), "w") as f:
        f.write(RULE)
    os.chmod(os.path.join(d.dir, "rules"), 0o755)
    d.start()
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dst = ("127.0.0.1", ports["gu"])
        u.sendto(gelf("plain"), dst)
        u.sendto(zlib.compress(gelf("zlib")), dst)
        u.sendto(gzip.compress(gelf("gzip")), dst)
        # chunked: gzip cut in 3, sent 2, 0, 0 (again), 1
        z = gzip.compress(gelf("chunked", full_message="x" * 3000))
        n = len(z)
        parts = [z[:n // 3], z[n // 3:2 * n // 3], z[2 * n // 3:]]
        mid = os.urandom(8)
        for seq in (2, 0, 0, 1):
            u.sendto(b"\x1e\x0f" + mid + bytes([seq, 3]) + parts[seq], dst)
        # a chunk of a message that never completes, and a broken datagram
        u.sendto(b"\x1e\x0f" + os.urandom(8) + bytes([0, 2]) + b"{", dst)
        u.sendto(b"\x78\x9c garbage", dst)
        u.close()

        t = socket.create_connection(("127.0.0.1", ports["gt"]))
        t.sendall(gelf("tcp1") + b"\0" + gelf("tcp2") + b"\0")
        t.close()

        j = socket.create_connection(("127.0.0.1", ports["jt"]))
        j.sendall(json.dumps({"@timestamp": "2026-01-01T00:00:00Z", "process": {"name": "sshd"},
                              "message": "Failed password shipmark-json1",
                              "source": {"ip": "198.51.100.4"}}).encode() + b"\n"
                  + json.dumps({"process": {"name": "sshd"},
                                "message": "shipmark-json2"}).encode() + b"\r\n")
        j.close()

        # the closed input: refused at accept, nothing stored from it
        c = socket.create_connection(("127.0.0.1", ports["jc"]))
        try:
            c.sendall(json.dumps({"process": {"name": "sshd"},
                                  "message": "shipmark-denied"}).encode() + b"\n")
        except OSError:
            pass
        c.close()

        want = {"plain", "zlib", "gzip", "chunked", "tcp1", "tcp2", "json1", "json2"}
        check(wait_for(lambda: want <= set(by_mark(d.events())), timeout=15),
              "every GELF (UDP plain/zlib/gzip/chunked, TCP) and JSON-lines record stored")
        ev = by_mark(d.events())
        for mark in ("plain", "zlib", "gzip", "chunked", "tcp1", "tcp2"):
            if mark not in ev:
                continue
            r, f = ev[mark]
            check(r["decoder"] == "gelf" and f.get("host.name") == "web-" + mark and
                  f.get("log.syslog.severity.code") == "4" and f.get("log.level") == "warning" and
                  f.get("source.ip") == "203.0.113.9" and f.get("process.name") == "sshd" and
                  f.get("container") == "c-" + mark,
                  "GELF %s: decoded (host, level, additional fields): %s"
                  % (mark, {k: f.get(k) for k in ("host.name", "log.level", "source.ip",
                                                  "process.name", "container")}))
            check(r["time_us"] == 1767225600250000,
                  "GELF %s: timestamp is the event time (%d)" % (mark, r["time_us"]))
        if "chunked" in ev:
            check(ev["chunked"][1].get("full_message") == "x" * 3000,
                  "GELF chunked: the whole message reassembled (full_message 3000 bytes)")
        if "json1" in ev:
            r, f = ev["json1"]
            check(r["decoder"] == "json" and f.get("source.ip") == "198.51.100.4" and
                  r["input"] == "json-tcp", "JSON lines: decoded by the JSON decoder")
        check("denied" not in by_mark(d.events()), "nothing stored from a sender not in peers")

        check(wait_for(lambda: want <= set(by_mark(d.alerts())), timeout=15),
              "every shipped record matched the test rule (alerts: %s)"
              % sorted(by_mark(d.alerts())))
        _, _, text = d.get("/metrics")
        check(d.metric(text, "hikeshi_input_records_total", 'input="gelf-udp"') == 4,
              "gelf-udp counted 4 records (the incomplete and broken ones not)")
        check((d.metric(text, "hikeshi_input_errors_total", 'input="gelf-udp"') or 0) >= 1,
              "gelf-udp counted the broken datagram as an error")
        check(d.metric(text, "hikeshi_input_records_total", 'input="json-tcp"') == 2,
              "json-tcp counted 2 records")
        check(d.metric(text, "hikeshi_input_denied_total", 'input="json-closed"') == 1,
              "the sender outside peers counted as denied")
        check("json-closed: connection from 127.0.0.1" in d.read_log() and
              "not in peers" in d.read_log(), "the refusal is logged with the peer address")
        check("GELF datagram from 127.0.0.1" in d.read_log(),
              "the broken GELF datagram is logged with the sender's address")
    finally:
        rc = d.stop()
    check(rc == 0, "daemon stops cleanly (rc %d)" % rc)
    finish()


if __name__ == "__main__":
    main()
