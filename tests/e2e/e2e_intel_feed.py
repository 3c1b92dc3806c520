"""End to end: feeds fetched by URL on a schedule (issue 20, docs/intel.md
"Feeds by URL").

A local HTTP server started here (http.server, honouring If-None-Match with
its own ETag and refusing requests without the feed's API key) serves a
MISP feed (manifest.json and event files) and a CSV list.  The daemon,
configured with both in intel.feeds at a 1 s interval:

- imports the MISP feed (the key sent, the TLP floor and confidence of the
  configuration applied, a not-for-detection attribute skipped), reloads
  its matcher without a restart (a firewall line to the feed's C2 address
  raises the intel alert) and counts the fetch in /metrics;
- on the next fetches sends If-None-Match and gets 304: nothing imported;
- when the manifest names an event whose file is broken JSON, or one the
  server does not have (404), or when the CSV answers an HTML page,
  refuses the feed with where and why in its log, counts a failure, and
  keeps the indicators it held;
- when the feed is good again, replaces it: an indicator the feed dropped
  is removed;
- refuses a redirect (the API key must not follow it to another host);
- on SIGHUP with a changed intel.feeds, restarts the fetcher with the new
  list: the list's new URL is fetched and replaces its indicators;
- restarted, asks with the validators it saved and gets 304: nothing is
  downloaded again, and the indicators stay.
"""

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, fields, finish, syslog_stamp, wait_for  # noqa: E402

KEY = "feed-key-5b1f"
C2 = "185.220.101.47"
C2_B = "45.137.21.9"
C2_CSV = "194.26.29.113"
C2_NEW = "91.92.240.18"
EV_A = "5f0c2a10-1d3e-4c6a-9a51-0c1f3a7e2b01"
EV_B = "5f0c2a10-1d3e-4c6a-9a51-0c1f3a7e2b02"
EV_BAD = "5f0c2a10-1d3e-4c6a-9a51-0c1f3a7e2b03"
EV_GONE = "5f0c2a10-1d3e-4c6a-9a51-0c1f3a7e2b04"


def event(uuid, attrs):
    return json.dumps({"Event": {
        "uuid": uuid, "info": "C2 infrastructure", "Tag": [{"name": "tlp:green"}],
        "Attribute": [{"uuid": uuid[:-2] + "a%d" % i, "type": t, "value": v, "to_ids": ids}
                      for i, (t, v, ids) in enumerate(attrs)]}}).encode()


class Feed:
    """What the server serves; swapped whole under the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.files = {}
        self.version = 0
        self.log = []  # (path, status, if-none-match, authorization)

    def set(self, files):
        with self.lock:
            self.files = dict(files)
            self.version += 1

    def count(self, path, status):
        with self.lock:
            return sum(1 for p, s, _, _ in self.log if p == path and s == status)


FEED = Feed()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        inm = self.headers.get("If-None-Match")
        auth = self.headers.get("Authorization")
        with FEED.lock:
            body = FEED.files.get(self.path)
            etag = '"v%d-%d"' % (FEED.version, hash(self.path) & 0xffff)
            if auth != KEY:
                status = 401
            elif self.path == "/moved.csv":
                status = 302
            elif body is None:
                status = 404
            elif inm == etag:
                status = 304
            else:
                status = 200
            FEED.log.append((self.path, status, inm, auth))
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "http://127.0.0.1:1/list.csv")
        if status in (200, 304):
            self.send_header("ETag", etag)
        if status == 200:
            ctype = "text/html" if body.startswith(b"<") else "application/json"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_header("Content-Length", "0")
            self.end_headers()


def manifest(*uuids):
    return json.dumps({u: {"info": "C2 infrastructure", "timestamp": "1764979200"}
                       for u in uuids}).encode()


YAML = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: fw
    type: syslog-udp
    listen: 127.0.0.1:{port}
intel:
  feeds:
    - name: peer
      url: http://127.0.0.1:%(srv)d/misp/
      format: misp-feed
      interval: 1s
      tlp: AMBER
      confidence: 80
      auth_header: "Authorization: %(key)s"
    - name: list
      url: http://127.0.0.1:%(srv)d/list.csv
      format: csv
      interval: 1s
      auth_header: "Authorization: %(key)s"
    - name: moved
      url: http://127.0.0.1:%(srv)d/moved.csv
      format: csv
      interval: 1h
      auth_header: "Authorization: %(key)s"
"""


def ufw_line(src, dst):
    return ("<4>%s fw01 kernel: [2017913.737300] [UFW BLOCK] IN=eth1 OUT=eth0 "
            "MAC=52:54:00:40:06:06:00:1b:21:7f:10:c2:08:00 SRC=%s DST=%s LEN=60 TOS=0x00 "
            "PREC=0x00 TTL=63 ID=26624 DF PROTO=TCP SPT=49986 DPT=443 WINDOW=64240 RES=0x00 "
            "SYN URGP=0" % (syslog_stamp(), src, dst))


def send(d, line):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(line.encode(), ("127.0.0.1", d.port))
    s.close()


def listed(d):
    r = subprocess.run([BIN, "intel", "list", "--json", "-c", d.conf], capture_output=True,
                       text=True)
    return {json.loads(x)["value"]: json.loads(x) for x in r.stdout.splitlines() if x.strip()}


def fetches(d, feed, result):
    try:
        _, _, text = d.get("/metrics")
    except OSError:
        return None
    return d.metric(text, "hikeshi_intel_feed_fetches_total",
                    'feed="%s",result="%s"' % (feed, result))


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    FEED.set({
        "/misp/manifest.json": manifest(EV_A, EV_B),
        "/misp/%s.json" % EV_A: event(EV_A, [("ip-dst", C2, True),
                                             ("domain", "c2.relay-node.example", True),
                                             ("ip-dst", "93.184.216.34", False)]),
        "/misp/%s.json" % EV_B: event(EV_B, [("ip-dst", C2_B, True)]),
        "/list.csv": ("# C2 addresses\n%s\n" % C2_CSV).encode(),
    })
    d = Daemon(YAML % {"srv": port, "key": KEY})
    d.start()

    check(wait_for(lambda: "intel feed peer: 3 indicators imported (misp-feed, 2 files)"
                   in d.read_log(), 20),
          "the MISP feed is fetched and imported: manifest and two events, 3 indicators")
    check(wait_for(lambda: "intel feed list: 1 indicators imported (csv" in d.read_log(), 20),
          "the CSV list is fetched and imported")
    check(all(a == KEY for _, _, _, a in FEED.log), "every request carried the feed's key")
    rows = listed(d)
    row = rows.get(C2)
    check(row and row["feed"] == "peer" and row["tlp"] == "AMBER" and row["confidence"] == 80,
          "the C2 address is held from feed peer, the TLP floor AMBER over the event's GREEN, "
          "the configured confidence: %s" % (row,))
    check("93.184.216.34" not in rows, "the attribute not for detection is skipped")
    check(C2_B in rows and C2_CSV in rows, "event B's address and the list's are held")

    # The matcher was reloaded without a restart: the C2 line alerts.
    check(wait_for(lambda: "intel: 4 indicators loaded" in d.read_log(), 20),
          "the matcher is reloaded with both feeds' 4 indicators")
    send(d, ufw_line("10.0.1.49", C2))

    def intel_alerts():
        return [a for a in d.alerts() if (a["rule_id"] or "").startswith("8f3c1e52-")]
    check(wait_for(lambda: len(intel_alerts()) >= 1, 10), "the C2 line raises the intel alert")
    al = intel_alerts()
    if al:
        f = fields(al[0])
        check(f.get("threat.indicator.value") == C2 and
              f.get("threat.indicator.provider") == "peer",
              "with threat.indicator.* from feed peer: %s" %
              {k: v for k, v in f.items() if k.startswith("threat.")})

    # The second fetch asks If-None-Match and gets 304: not imported again.
    check(wait_for(lambda: FEED.count("/misp/manifest.json", 304) >= 1, 20),
          "a later fetch of the manifest is answered 304 (If-None-Match sent)")
    check(wait_for(lambda: (fetches(d, "peer", "not_modified") or 0) >= 1, 10),
          "/metrics counts it: result not_modified")
    check(fetches(d, "peer", "updated") == 1, "and one import (updated) so far: %s"
          % fetches(d, "peer", "updated"))
    check(FEED.count("/misp/%s.json" % EV_A, 200) == 1,
          "an unchanged manifest fetches no event again")

    # A broken event file: the whole feed is refused, the indicators kept.
    FEED.set({
        "/misp/manifest.json": manifest(EV_A, EV_BAD),
        "/misp/%s.json" % EV_A: event(EV_A, [("ip-dst", C2, True)]),
        "/misp/%s.json" % EV_BAD: b'{"Event": {"uuid": "x", "Attribute": [{"type": "ip-d',
        "/list.csv": b"<html><body>502 Bad Gateway</body></html>\n",
    })
    check(wait_for(lambda: (fetches(d, "peer", "failed") or 0) >= 1, 20),
          "the broken feed counts a failure")
    log = d.read_log()
    check("intel feed peer: " in log and EV_BAD + ".json: byte" in log and
          "keeping the indicators held" in log,
          "the log names the broken event file, the byte, and that the feed is kept")
    check(wait_for(lambda: (fetches(d, "list", "failed") or 0) >= 1, 20),
          "the list answering an HTML page counts a failure")
    check("intel feed list: " in d.read_log() and "no indicator in it" in d.read_log(),
          "the log says the HTML page held no indicator: not taken as an empty feed")
    rows = listed(d)
    check(C2 in rows and C2_B in rows and C2_CSV in rows,
          "the indicators held before are all still there: %s" % sorted(rows))

    # A partial feed: an event the server does not have (404).
    FEED.set({
        "/misp/manifest.json": manifest(EV_A, EV_GONE),
        "/misp/%s.json" % EV_A: event(EV_A, [("ip-dst", C2, True)]),
        "/list.csv": ("%s\n" % C2_CSV).encode(),
    })
    check(wait_for(lambda: EV_GONE + ".json: HTTP 404: a partial feed is not imported"
                   in d.read_log(), 20),
          "an event missing from the server (404) refuses the feed as partial")
    check(C2_B in listed(d), "event B's indicator is still held after the partial feed")

    # Good again: the feed is replaced; what it dropped goes.
    FEED.set({
        "/misp/manifest.json": manifest(EV_A),
        "/misp/%s.json" % EV_A: event(EV_A, [("ip-dst", C2, True)]),
        "/list.csv": ("%s\n" % C2_CSV).encode(),
    })
    check(wait_for(lambda: "intel feed peer: 1 indicators imported (misp-feed, 1 files), 0 "
                   "refused, 0 on warninglists, 2 no longer in the feed removed" in d.read_log(),
                   20),
          "the good feed replaces the held one: event B's address and the domain removed")
    rows = listed(d)
    check(C2 in rows and C2_B not in rows, "C2 held, event B's address gone: %s" % sorted(rows))
    check(os.path.exists(os.path.join(d.data, "intel-feeds", "peer.state")),
          "the validators are kept in data_dir/intel-feeds/peer.state")
    with open(os.path.join(d.data, "intel-feeds", "peer.state")) as f:
        check(f.readline().strip().startswith('"v'), "holding the manifest's ETag")
    work = os.path.join(d.data, "intel-feeds", "peer.new")
    check(not os.path.exists(work) or os.listdir(work) == [],
          "and the fetched copy is cleaned up: %s" % (os.listdir(work) if os.path.exists(work)
                                                      else "-"))
    # A redirect is refused: the key is not sent on to where it points.
    check("intel feed moved: http://127.0.0.1:%d/moved.csv: HTTP 302: redirects are not "
          "followed" % port in d.read_log(), "a feed answering a redirect is refused, said so")
    check(fetches(d, "moved", "failed") == 1 and FEED.count("/moved.csv", 302) == 1,
          "counted as failed, fetched once (interval 1h)")

    # SIGHUP with the list moved to another URL: applied without a restart.
    FEED.set(dict(FEED.files, **{"/list2.csv": ("%s\n" % C2_NEW).encode()}))
    d.write_config(YAML.replace("/list.csv", "/list2.csv") % {"srv": port, "key": KEY})
    seen = len(d.read_log())
    d.signal(signal.SIGHUP)
    check(wait_for(lambda: "SIGHUP: intel.feeds applied (3 feeds)" in d.read_log()[seen:], 20),
          "SIGHUP applies the changed intel.feeds")
    check(wait_for(lambda: "intel feed list: 1 indicators imported (csv, 1 files), 0 refused, 0 "
                   "on warninglists, 1 no longer in the feed removed" in d.read_log()[seen:], 20),
          "the list is fetched from its new URL at once, replacing its old address")
    rows = listed(d)
    check(C2_NEW in rows and C2_CSV not in rows and C2 in rows,
          "the new address held, the old one gone, the MISP feed's kept: %s" % sorted(rows))
    def after_import():
        log = d.read_log()[seen:]
        at = log.find("intel feed list: 1 indicators imported")
        return at >= 0 and "intel: 2 indicators loaded" in log[at:]
    check(wait_for(after_import, 20),
          "the matcher is reloaded after that import: the C2 address and the new one")
    send(d, ufw_line("10.0.1.50", C2_NEW))
    check(wait_for(lambda: any(fields(a).get("threat.indicator.value") == C2_NEW
                               for a in intel_alerts()), 10),
          "the new address raises the intel alert")

    rc = d.stop()
    check(rc == 0, "the daemon stops cleanly")

    # Restarted: the saved ETag is sent at once and answered 304.
    with FEED.lock:
        before = len(FEED.log)
        etag = '"v%d-%d"' % (FEED.version, hash("/misp/manifest.json") & 0xffff)
    d.start()
    check(wait_for(lambda: FEED.count("/misp/manifest.json", 304) >= 1 and
                   any(p == "/misp/manifest.json" for p, _, _, _ in FEED.log[before:]), 20),
          "after a restart the manifest is fetched again")
    with FEED.lock:
        first = next(x for x in FEED.log[before:] if x[0] == "/misp/manifest.json")
    check(first[1] == 304 and first[2] == etag,
          "the first fetch after the restart sends the saved ETag and gets 304: %s" % (first,))
    check(not any(p.startswith("/misp/5f0c") for p, _, _, _ in FEED.log[before:]),
          "no event file is downloaded again")
    check(wait_for(lambda: (fetches(d, "peer", "not_modified") or 0) >= 1, 10) and
          fetches(d, "peer", "updated") == 0, "counted not_modified, nothing imported")
    check(C2 in listed(d), "the feed's indicators are still held")
    rc = d.stop()
    check(rc == 0, "the restarted daemon stops cleanly")
    srv.shutdown()
    finish()


if __name__ == "__main__":
    main()
