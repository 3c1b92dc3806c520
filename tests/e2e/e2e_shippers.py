"""End to end: the shippers' protocols (issue 21).  The real daemon with
GELF over UDP (plain, zlib, gzip, chunked out of order with a duplicate)
and TCP (NUL-delimited), JSON lines over TCP, each record checked decoded
(stored fields) and matched (an alert by a rule written for the test), and
a sender outside an input's peers refused.  Then the Elasticsearch bulk
input as Filebeat and Winlogbeat use it: GET / (the version check), a
gzip-compressed _bulk body in Elastic's documented NDJSON shape holding a
Filebeat log line and a Winlogbeat ECS Windows 4625 event, answered with
the items Beats read; the 4625 matched by SigmaHQ's Windows rule for
suspicious failed logon reasons; a request without credentials refused."""

import base64
import gzip
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
  - name: watched
    type: json-tcp
    listen: 127.0.0.1:%(jw)d
    expect_every: 2s
  - name: beats
    type: http-bulk
    listen: 127.0.0.1:%(hb)d
    users: ["beats:s3cret-pass"]
    api_keys: ["VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"]
    max_body: 1m
  - name: beats-tls
    type: http-bulk
    listen: 127.0.0.1:%(hs)d
    api_keys: ["tls-id:tls-key"]
    tls:
      cert: {dir}/server.pem
      key: {dir}/server.key
sigma:
  rules: [{src}/rules, {dir}/rules, %(sigma_rule)s]
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


SHARED = os.environ.get("HIKESHI_SHARED",
                        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
SIGMA_4625 = os.path.join(SHARED, "sigma", "rules", "windows", "builtin", "security",
                          "win_security_susp_failed_logon_reasons.yml")

# A Filebeat event (filestream input, ECS) and a Winlogbeat one: a 4625
# from the Security channel with a disabled account's status, as
# Winlogbeat 8 writes it (winlog.event_data holds the event's own names).
FILEBEAT_DOC = {
    "@timestamp": "2026-01-02T03:04:05.678Z",
    "message": "Jan  2 03:04:05 web1 sshd[811]: Failed password for root from 203.0.113.7 "
               "port 40022 ssh2 shipmark-filebeat",
    "input": {"type": "filestream"}, "log": {"file": {"path": "/var/log/auth.log"},
                                             "offset": 1234},
    "agent": {"type": "filebeat", "version": "8.11.0", "name": "web1"},
    "host": {"name": "web1"}, "ecs": {"version": "8.0.0"},
    "process": {"name": "sshd"},
}
WINLOGBEAT_DOC = {
    "@timestamp": "2026-01-02T03:05:00.123Z",
    "message": "An account failed to log on. shipmark-winlogbeat",
    "event": {"code": "4625", "kind": "event", "provider": "Microsoft-Windows-Security-Auditing",
              "action": "logon-failed", "category": ["authentication"], "type": ["start"],
              "outcome": "failure"},
    "winlog": {"channel": "Security", "event_id": "4625", "record_id": 91377,
               "provider_name": "Microsoft-Windows-Security-Auditing",
               "computer_name": "DC01.corp.example", "api": "wineventlog", "task": "Logon",
               "keywords": ["Audit Failure"],
               "event_data": {"SubjectUserSid": "S-1-5-18", "SubjectUserName": "DC01$",
                              "TargetUserName": "svc-backup", "TargetDomainName": "CORP",
                              "Status": "0xc0000072", "SubStatus": "0xc0000072",
                              "FailureReason": "%%2310", "LogonType": "3",
                              "WorkstationName": "KALI", "IpAddress": "203.0.113.50",
                              "IpPort": "49711", "LogonProcessName": "NtLmSsp",
                              "AuthenticationPackageName": "NTLM"}},
    "host": {"name": "DC01"}, "agent": {"type": "winlogbeat", "version": "8.11.0"},
    "ecs": {"version": "8.0.0"},
}


def http(port, method, path, body=None, headers=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def bulk_checks(d, port):
    basic = {"Authorization": "Basic " + base64.b64encode(b"beats:s3cret-pass").decode()}
    st, hd, body = http(port, "GET", "/", headers=basic)
    v = json.loads(body) if st == 200 else {}
    check(st == 200 and v.get("version", {}).get("number", "").startswith("8.") and
          hd.get("X-Elastic-Product") == "Elasticsearch",
          "GET / answers an Elasticsearch version Beats accept (%d %s)" % (st, body[:80]))
    st, _, body = http(port, "GET", "/")
    check(st == 401 and "security_exception" in body, "a request without credentials: 401")
    wrong = {"Authorization": "Basic " + base64.b64encode(b"beats:guess").decode()}
    st, _, _ = http(port, "POST", "/_bulk", b'{"index":{}}\n{"message":"shipmark-intruder"}\n',
                    dict(wrong, **{"Content-Type": "application/x-ndjson"}))
    check(st == 401, "a bulk request with a wrong password: 401, nothing taken")

    # Elastic's bulk format: action line, source line, each ended by \n;
    # Filebeat 8 sends it gzip-compressed (compression_level 1).
    nd = "".join(json.dumps(a) + "\n" for a in (
        {"create": {"_index": "filebeat-8.11.0"}}, FILEBEAT_DOC,
        {"create": {"_index": "winlogbeat-8.11.0", "_id": "evt-91377"}}, WINLOGBEAT_DOC,
        {"delete": {"_index": "x", "_id": "1"}},
        {"index": {}}, "not an object",
    )).encode()
    st, _, body = http(port, "POST", "/_bulk", gzip.compress(nd),
                       dict(basic, **{"Content-Type": "application/x-ndjson",
                                      "Content-Encoding": "gzip"}))
    ans = json.loads(body) if st == 200 else {}
    items = ans.get("items", [])
    check(st == 200 and isinstance(ans.get("took"), int) and ans.get("errors") is True and
          len(items) == 4, "the bulk answer has took, errors and one item per action (%s)"
          % body[:200])
    if len(items) == 4:
        check(items[0].get("create", {}).get("status") == 201 and
              items[0]["create"].get("_index") == "filebeat-8.11.0" and
              items[0]["create"].get("result") == "created",
              "item 1: created in filebeat-8.11.0, 201")
        check(items[1].get("create", {}).get("_id") == "evt-91377" and
              items[1]["create"].get("status") == 201, "item 2: its _id echoed, 201")
        check(items[2].get("delete", {}).get("status") == 404, "a delete: 404, nothing deleted")
        check(items[3].get("index", {}).get("status") == 400 and "error" in items[3]["index"],
              "a source line that is not an object: its item fails, 400")
    # an API key, on /<index>/_bulk, uncompressed (Vector, Fluent Bit)
    key = {"Authorization": "ApiKey " + base64.b64encode(
        b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode()}
    st, _, body = http(port, "POST", "/vector-logs/_bulk",
                       b'{"index":{}}\n{"message":"shipmark-vector","process":{"name":"sshd"}}\n',
                       dict(key, **{"Content-Type": "application/x-ndjson"}))
    ans = json.loads(body) if st == 200 else {}
    check(st == 200 and ans.get("errors") is False and
          ans["items"][0]["index"]["_index"] == "vector-logs",
          "an API key admits; the URL's index names the item (%s)" % body[:160])
    st, _, body = http(port, "POST", "/_bulk", b'{"index":{}}\n' + b" " * (1 << 20), basic)
    check(st == 413, "a body over max_body: 413")
    st, _, body = http(port, "POST", "/_bulk", b'{"explode":{}}\n{}\n', basic)
    check(st == 400 and "illegal_argument_exception" in body and "at byte 1:" in body and
          "not index, create, update or delete" in body,
          "a malformed action line: 400 naming the byte (%s)" % body[:160])

    want = {"filebeat", "winlogbeat", "vector"}
    check(wait_for(lambda: want <= set(by_mark(d.events())), timeout=15),
          "the bulk documents are stored")
    ev = by_mark(d.events())
    check("intruder" not in ev, "nothing stored from a refused request")
    if "winlogbeat" in ev:
        r, f = ev["winlogbeat"]
        check(r["decoder"] == "json" and r["input"] == "beats" and
              f.get("winlog.event_data.Status") == "0xc0000072" and
              r["time_us"] == 1767323100123000,
              "the Winlogbeat event decoded as ECS JSON, with its own time")
    if "filebeat" in ev:
        check(ev["filebeat"][0]["time_us"] == 1767323045678000,
              "the Filebeat event's @timestamp is its time")
    rule_id = "9eb99343-d336-4020-a3cd-67f3819e68ee"
    check(wait_for(lambda: any(a["rule_id"] == rule_id for a in d.alerts()), timeout=15),
          "the Winlogbeat 4625 matched SigmaHQ's Windows rule (Channel, EventID, Status, "
          "SubjectUserSid reached through winlog.*)")
    check(wait_for(lambda: {"filebeat", "vector"} <= set(by_mark(d.alerts())), timeout=15),
          "the Filebeat and Vector documents matched the test rule")
    _, _, text = d.get("/metrics")
    check(d.metric(text, "hikeshi_input_records_total", 'input="beats"') == 3,
          "http-bulk counted 3 records")
    check(d.metric(text, "hikeshi_input_denied_total", 'input="beats"') == 2,
          "http-bulk counted the 2 refused requests as denied")
    check("beats: 127.0.0.1:" in d.read_log() and "no or wrong credentials" in d.read_log(),
          "the refusal is logged with the client's address")


def make_server_cert(d):
    """A self-signed certificate for 127.0.0.1 (certtool, gnutls-bin)."""
    tmpl = os.path.join(d, "server.tmpl")
    with open(tmpl, "w") as f:
        f.write('cn = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\n'
                'expiration_days = 30\n')
    for args in (["--generate-privkey", "--key-type=ecdsa", "--outfile",
                  os.path.join(d, "server.key")],
                 ["--generate-self-signed", "--load-privkey", os.path.join(d, "server.key"),
                  "--template", tmpl, "--outfile", os.path.join(d, "server.pem")]):
        r = subprocess.run(["certtool"] + args, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("certtool: " + r.stderr)
    for f in ("server.key", "server.pem"):
        os.chmod(os.path.join(d, f), 0o644)


def tls_checks(d, port):
    """http-bulk with tls: HTTPS only, the certificate served, records taken."""
    ctx = ssl.create_default_context(cafile=os.path.join(d.dir, "server.pem"))
    req = urllib.request.Request(
        "https://127.0.0.1:%d/_bulk" % port, method="POST",
        data=b'{"create":{}}\n{"message":"shipmark-overtls","process":{"name":"sshd"}}\n',
        headers={"Authorization": "ApiKey " + base64.b64encode(b"tls-id:tls-key").decode(),
                 "Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
        ans = json.loads(r.read().decode())
    check(ans.get("errors") is False and ans["items"][0]["create"]["status"] == 201,
          "http-bulk over TLS (the certificate verified): created")
    check(wait_for(lambda: "overtls" in by_mark(d.events()), timeout=10),
          "the document sent over TLS is stored")
    try:
        st, _, _ = http(port, "GET", "/")
    except Exception:  # noqa: BLE001 - any failure of plain HTTP is the point
        st = None
    check(st != 200, "plain HTTP to the TLS input gets no answer (%s)" % st)


def silence_checks(d, port):
    """A sender of an input with expect_every stops: one alert through the
    alert writer, the gauge at 1; it sends again: the gauge back at 0."""
    def send(mark):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(json.dumps({"message": "heartbeat shipmark-" + mark}).encode() + b"\n")
        c.close()

    def silent():
        _, _, text = d.get("/metrics")
        return d.metric(text, "hikeshi_source_silent", 'input="watched"')

    def silence_alerts():
        return [a for a in d.alerts() if a["rule_id"] == "hikeshi-source-silent"]

    t0 = time.time()
    send("beat1")
    check(wait_for(lambda: "beat1" in by_mark(d.events()), timeout=10), "the heartbeat is stored")
    check(silent() == 0 and not silence_alerts(), "a sender that just sent is not silent")
    check(wait_for(lambda: len(silence_alerts()) == 1, timeout=10),
          "the sender silent past expect_every (2s) raises one alert")
    waited = time.time() - t0
    check(waited >= 2, "not before the interval (%.1fs)" % waited)
    al = silence_alerts()
    if al:
        f = fields(al[0])
        check(al[0]["input"] == "watched" and f.get("sender") == "127.0.0.1" and
              f.get("expect_every_s") == 2 and "sent nothing for" in al[0]["raw"].decode(),
              "the alert names the input, the sender and the interval (%s)" % f)
    check(silent() == 1, "hikeshi_source_silent{input=watched} is 1")
    time.sleep(1.5)
    check(len(silence_alerts()) == 1, "one alert per silence, not one a second")
    send("beat2")
    check(wait_for(lambda: silent() == 0, timeout=10), "the sender is back: the gauge at 0")
    check("source silent: input watched: 127.0.0.1 sent nothing" in d.read_log(),
          "the silence is logged")


def main():
    ports = {"gu": free_port(socket.SOCK_DGRAM), "gt": free_port(), "jt": free_port(),
             "jc": free_port(), "hb": free_port(), "jw": free_port(), "hs": free_port(), "sigma_rule": SIGMA_4625}
    d = Daemon(CONFIG % ports)
    make_server_cert(d.dir)
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
        bulk_checks(d, ports["hb"])
        silence_checks(d, ports["jw"])
        tls_checks(d, ports["hs"])
    finally:
        rc = d.stop()
    check(rc == 0, "daemon stops cleanly (rc %d)" % rc)
    finish()


if __name__ == "__main__":
    main()
