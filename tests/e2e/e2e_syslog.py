"""End to end over real sockets: util-linux logger over UDP and TCP, 10,000
lines over 8 parallel TCP connections in both RFC 6587 framings, metrics
and health over HTTP, oversized and garbage records, SIGHUP reload without
dropping a connection, and SIGTERM losing nothing."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, check, fields, finish, wait_for  # noqa: E402

# Local Sigma rules next to the bundled ones; the second is added to the
# rule directory before SIGHUP.
RULE_ROOT = """title: root login failure
id: 5a0d3c1e-7f52-4e0b-9a4e-0c6f1d2b3e41
author: e2e
logsource: {product: linux, service: sshd}
detection:
    selection:
        event.action: ssh_login
        event.outcome: failure
        user.name: root
    condition: selection
level: high
"""

RULE_RELOADED = """title: rule added by SIGHUP
id: 9e2b7c44-1d3a-4f6e-8b20-5c7a9d0e1f52
author: e2e
logsource: {product: linux, service: sshd}
detection:
    selection:
        user.name: reloaded-user
    condition: selection
level: low
"""

ROOT_ID = "5a0d3c1e-7f52-4e0b-9a4e-0c6f1d2b3e41"
RELOADED_ID = "9e2b7c44-1d3a-4f6e-8b20-5c7a9d0e1f52"

CONFIG = """
data_dir: {data}
sigma:
  rules: [{src}/rules, {dir}/local-rules]
  mappings: {src}/rules/config
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
    max_line: 1024
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
    max_line: 1024
"""

SSH_LINE = "sshd[42]: Failed password for root from 203.0.113.9 port 4242 ssh2"


def logger(d, proto, msg, *extra):
    r = subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(d.port), "--" + proto] +
                       list(extra) + [msg], capture_output=True, text=True, timeout=20)
    check(r.returncode == 0, "logger --%s %s exit 0 (%s)" % (proto, " ".join(extra), r.stderr.strip()))


def tcp_client(port, cid, n, octet):
    s = socket.create_connection(("127.0.0.1", port))
    buf = []
    for i in range(n):
        msg = "<13>Nov 23 12:00:00 loadhost load[%d]: client=%d seq=%d payload=%s" % (
            cid, cid, i, "x" * (i % 50))
        if octet:
            b = msg.encode()
            buf.append(b"%d " % len(b) + b)
        else:
            buf.append(msg.encode() + b"\n")
        if len(buf) >= 100:
            s.sendall(b"".join(buf))
            buf = []
    if buf:
        s.sendall(b"".join(buf))
    s.shutdown(socket.SHUT_WR)
    s.close()


def main():
    d = Daemon(CONFIG)
    local = os.path.join(d.dir, "local-rules")
    os.mkdir(local)
    with open(os.path.join(local, "root.yml"), "w") as f:
        f.write(RULE_ROOT)
    d.start()

    # 1. util-linux logger, the real syslog client, over both transports and
    #    in both of its formats.
    logger(d, "tcp", SSH_LINE)
    logger(d, "udp", SSH_LINE)
    logger(d, "tcp", SSH_LINE, "--rfc3164")
    logger(d, "tcp", SSH_LINE, "--octet-count")

    # 2. 10,000 lines over 8 parallel TCP connections, half octet-counted.
    threads = [threading.Thread(target=tcp_client, args=(d.port, c, 1250, c % 2 == 0))
               for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # 3. Oversized line (truncated at max_line 1024, counted), binary garbage
    #    and a line no decoder understands: all stored, daemon alive.
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"<13>Nov 23 12:00:00 h big: " + b"A" * 5000 + b"\n")
    s.sendall(b"\x00\xff\xfe garbage \x01\x02\n")
    s.sendall(b"this is not a log line that anything understands\n")
    # 4. SIGHUP with this connection open: it must keep working.
    with open(os.path.join(local, "reloaded.yml"), "w") as f:
        f.write(RULE_RELOADED)
    d.signal(signal.SIGHUP)
    check(wait_for(lambda: "SIGHUP: reloaded" in d.read_log()), "SIGHUP reloads the config")
    s.sendall(b"<13>Nov 23 12:00:01 h sshd[7]: Failed password for reloaded-user from "
              b"198.51.100.7 port 1 ssh2\n")
    s.close()

    # A broken config on SIGHUP keeps the running one.
    with open(d.conf, "a") as f:
        f.write("bogus_key: 1\n")
    d.signal(signal.SIGHUP)
    check(wait_for(lambda: "keeping the running configuration" in d.read_log()),
          "a bad config on SIGHUP is reported and the running one kept")

    # 5. Metrics and health while running.
    def tcp_count():
        _, _, text = d.get("/metrics")
        return d.metric(text, "hikeshi_pipeline_records_total", 'input="tcp"') or 0
    check(wait_for(lambda: tcp_count() >= 10006, timeout=30), "pipeline processed the TCP lines")
    status, ctype, text = d.get("/metrics")
    check(status == 200 and ctype.startswith("text/plain"), "/metrics is Prometheus text")
    check(d.metric(text, "hikeshi_input_truncated_total", 'input="tcp"') == 1,
          "the oversized line is counted as truncated")
    check((d.metric(text, "hikeshi_input_dropped_total", 'input="udp"') or 0) == 0,
          "no UDP drops at this rate")
    check("# TYPE hikeshi_input_records_total counter" in text, "metrics carry TYPE lines")
    status, ctype, body = d.get("/api/v1/health")
    h = json.loads(body)
    check(status == 200 and h["status"] == "ok", "/api/v1/health says ok")
    check({i["name"] for i in h["inputs"]} == {"udp", "tcp"}, "health lists the inputs")
    try:
        d.get("/no/such/route")
        check(False, "unknown route is 404")
    except Exception as e:  # urllib raises on 404
        check("404" in str(e), "unknown route is 404")

    # 6. SIGTERM: drain and exit 0.
    rc = d.stop()
    check(rc == 0, "SIGTERM exits 0 (got %d)" % rc)

    events = d.events()
    raws = [bytes(e["raw"]) for e in events]
    load = [r for r in raws if b" load[" in r]
    check(len(load) == 10000, "all 10,000 TCP lines stored (got %d)" % len(load))
    expect = set()
    for c in range(8):
        for i in range(1250):
            expect.add(("client=%d seq=%d " % (c, i)).encode())
    got = set()
    for r in load:
        k = r.index(b"client=")
        got.add(r[k:r.index(b"payload=")])
    check(got == expect, "every (client, seq) pair arrived exactly once")
    check(len(load) == len(got), "no line was doubled")

    ssh = [e for e in events if SSH_LINE.encode() in bytes(e["raw"])]
    check(len(ssh) == 4, "the 4 logger messages were stored (got %d)" % len(ssh))
    for e in ssh:
        f = fields(e)
        check(f.get("source.ip") == "203.0.113.9" and f.get("user.name") == "root" and
              f.get("source.port") == "4242" and f.get("event.outcome") == "failure" and
              f.get("process.name") == "sshd" and f.get("process.pid") == "42",
              "logger message from input %s decoded to ECS fields: %s" % (
                  e["input"], {k: f.get(k) for k in ("source.ip", "user.name", "process.name")}))
    check({e["input"] for e in ssh} == {"udp", "tcp"}, "messages came over UDP and TCP")

    big = [e for e in events if b" big: " in bytes(e["raw"])]
    check(len(big) == 1 and len(bytes(big[0]["raw"])) == 1024,
          "oversized line stored truncated to max_line")
    junk = [e for e in events if b"garbage" in bytes(e["raw"])]
    check(len(junk) == 1 and junk[0]["decoder"] is None, "binary garbage stored raw as unparsed")
    free_text = [e for e in events if b"anything understands" in bytes(e["raw"])]
    check(len(free_text) == 1 and free_text[0]["decoder"] is None,
          "an unknown format is stored raw, never dropped")

    alerts = d.alerts()
    root = [a for a in alerts if a["rule_id"] == ROOT_ID]
    check(len(root) == 4, "the root-failure rule fired once per logger message (got %d)" % len(root))
    check(all(a["rule_author"] == "e2e" and a["rule_title"] == "root login failure" for a in root),
          "alerts carry the rule's id, title and author")
    check(all(SSH_LINE.encode() in bytes(a["raw"]) for a in root), "alerts keep the raw text")
    sig = [a for a in alerts if a["rule_title"] == "SSH Login Failure for Root" and
           SSH_LINE.encode() in bytes(a["raw"])]
    check(len(sig) == 4 and all(a["rule_author"] == "hikeshi project" for a in sig),
          "the bundled Sigma rule fired once per logger message, with its author (got %d)"
          % len(sig))
    rel = [a for a in alerts if a["rule_id"] == RELOADED_ID]
    check(len(rel) == 1, "the rule added by SIGHUP fired on the same connection")
    with open(os.path.join(d.data, "alerts.jsonl")) as f:
        lines = [json.loads(x) for x in f]
    check(len(lines) == len(alerts), "alerts.jsonl has one line per stored alert")
    check(all(x["rule"]["author"] and x["raw"] and x["fields"] for x in lines),
          "each JSON alert has rule, fields and raw")
    finish()


if __name__ == "__main__":
    main()
