"""End to end: a C2 address from a feed, seen in a firewall log, feeds the
response policy's known-bad rule (issue 20; docs/respond.md "indicator",
docs/intel.md).

A local HTTP server serves two CSV feeds fetched by the daemon
(intel.feeds): `peer` lists the C2 address C2 (confidence 90: High), a
second address C2_UNTRUSTED (High) and C2_MEDIUM (confidence 40: Medium);
`other` lists C2_OTHER (High).  The policy (dry run) has one rule, known-bad
indicator: `indicator: high`, `indicator_feeds: [peer]`, from outside,
block, auto.  Then:

- a netfilter (ufw) line from a trusted TCP input (a witness of the
  connection) shows an inside host reaching C2: the intel alert carries
  threat.indicator.* with provider peer; the known-bad rule decides ACT on
  C2 (not on the inside host), in dry run: a `dry_run` response row whose
  reason names the trusted witness and the indicator, and a
  `response.dry_run` audit entry for C2 under policy rule known-bad
  indicator;
- the same kind of line about C2_UNTRUSTED over an untrusted UDP input:
  no trusted witness, so the auto rule asks (a pending request), never acts;
- C2_MEDIUM (Medium) and C2_OTHER (a feed not named) through the trusted
  input: the rule does not match; no response names them.

Observables (docs/intel.md "Observables in incidents"): the incident the C2
alert opened holds C2 and the inside host as observables taken from the
alert; a second inside host reaching C2 opens another incident, and the two
are linked by C2 on both sides; an alert an analyst attaches to a third
incident brings its observables, linking it to both.  An analyst adds a domain (stored in its
canonical form; twice is 200; a bad value 400 naming the field), removes
it, and promotes an observed address to an indicator with TLP AMBER: it is
stored under the feed local, the matcher is reloaded, and a firewall line
to it raises the intel alert with provider local.  A user name cannot be
promoted.  The audit log holds observable.add, observable.delete and
observable.promote by the analyst.
"""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, Daemon, check, fields, finish, free_port, syslog_stamp,  # noqa: E402
                     user_add, wait_for)

C2 = "185.220.101.47"
C2_UNTRUSTED = "45.137.21.9"
C2_MEDIUM = "194.26.29.113"
C2_OTHER = "91.92.240.18"
C2_UDP = "193.142.146.35"
INSIDE = "10.0.1.50"
INSIDE_2 = "10.0.1.52"
PROMOTED = "5.188.10.11"

FILES = {
    "/peer.csv": ("value,confidence\n%s,90\n%s,90\n%s,40\n%s,90\n"
                  % (C2, C2_UNTRUSTED, C2_MEDIUM, C2_UDP)),
    "/other.csv": ("value,confidence\n%s,90\n" % C2_OTHER),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body = FILES.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


UDP = free_port(socket.SOCK_DGRAM)
OPEN = free_port()

YAML = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
respond:
  policy: {dir}/respond.yaml
inputs:
  - name: fw
    type: syslog-tcp
    listen: 127.0.0.1:{port}
    trust: trusted
    peers: [127.0.0.1]
  - name: open
    type: syslog-tcp
    listen: 127.0.0.1:%(open)d
  - name: forged
    type: syslog-udp
    listen: 127.0.0.1:%(udp)d
    trust: trusted
    peers: [127.0.0.1]
intel:
  feeds:
    - name: peer
      url: http://127.0.0.1:%(srv)d/peer.csv
      format: csv
      interval: 1h
    - name: other
      url: http://127.0.0.1:%(srv)d/other.csv
      format: csv
      interval: 1h
"""

POLICY = """
dry_run: true
rules:
  - name: known-bad indicator
    kind: rule
    indicator: high
    indicator_feeds: [peer]
    from: outside
    actions: [block]
    mode: auto
"""


def ufw_line(src, dst):
    return ("<4>%s fw01 kernel: [2017913.737300] [UFW BLOCK] IN=eth1 OUT=eth0 "
            "MAC=52:54:00:40:06:06:00:1b:21:7f:10:c2:08:00 SRC=%s DST=%s LEN=60 TOS=0x00 "
            "PREC=0x00 TTL=63 ID=26624 DF PROTO=TCP SPT=49986 DPT=443 WINDOW=64240 RES=0x00 "
            "SYN URGP=0" % (syslog_stamp(), src, dst))


def send_tcp(d, line, port=None):
    with socket.create_connection(("127.0.0.1", port or d.port)) as s:
        s.sendall((line + "\n").encode())


def send_udp(line):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(line.encode(), ("127.0.0.1", UDP))
    s.close()


def rows(d, sql, args=()):
    con = d.db()
    try:
        con.row_factory = None
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def responses(d, addr):
    return rows(d, "SELECT state, policy_rule, reason, address FROM responses WHERE address = ?",
                (addr,))


def audit_entries(d):
    out = []
    with open(os.path.join(d.data, "audit.log")) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def api(d, token, method, path, body=None):
    """(status, JSON answer) of one API call."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def incident_with(d, token, typ, value, exclude=()):
    """The id of an incident (not in `exclude`) whose observables hold
    (typ, value), or None."""
    st, body = api(d, token, "GET", "/api/v1/incidents?limit=100")
    for inc in (body or {}).get("incidents", []) if st == 200 else []:
        if inc["id"] in exclude:
            continue
        st, obs = api(d, token, "GET", "/api/v1/incidents/%d/observables" % inc["id"])
        if st == 200 and any(o["type"] == typ and o["value"] == value
                             for o in obs["observables"]):
            return inc["id"]
    return None


def intel_alert(d, value):
    return [a for a in d.alerts() if fields(a).get("threat.indicator.value") == value]


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    d = Daemon(YAML % {"srv": srv.server_address[1], "udp": UDP, "open": OPEN})
    with open(os.path.join(d.dir, "respond.yaml"), "w") as f:
        f.write(POLICY)
    d.start()
    check(wait_for(lambda: "intel feed peer: 4 indicators imported" in d.read_log() and
                   "intel feed other: 1 indicators imported" in d.read_log(), 20),
          "both feeds are fetched and imported")
    check(wait_for(lambda: "intel: 5 indicators loaded" in d.read_log(), 20),
          "the matcher is reloaded with the five indicators")

    # The C2 address seen by the firewall, reported over the trusted input.
    send_tcp(d, ufw_line(INSIDE, C2))
    check(wait_for(lambda: intel_alert(d, C2), 10), "the firewall line raises the intel alert")
    f = fields(intel_alert(d, C2)[0])
    check(f.get("threat.indicator.provider") == "peer" and
          f.get("threat.indicator.confidence") == "High" and
          f.get("threat.enrichments.matched.field") == "destination.ip",
          "with threat.indicator.* of feed peer, High, matched on destination.ip: %s"
          % {k: v for k, v in f.items() if k.startswith("threat.")})
    check(wait_for(lambda: responses(d, C2), 10), "the known-bad rule decided about the C2 address")
    r = responses(d, C2)
    # (each rule alert on the event carries its indicator: a second one is
    # refused as already blocked)
    check(r[0][0] == "dry_run" and r[0][1] == "known-bad indicator" and
          [x[0] for x in r].count("dry_run") == 1,
          "ACT in dry run under the rule known-bad indicator, once: %s" % (r,))
    check("trusted witness netfilter via fw from 127.0.0.1" in r[0][2] and
          "indicator %s of feed peer (High)" % C2 in r[0][2],
          "the reason names the trusted witness and the indicator: %s" % r[0][2])
    check(not responses(d, INSIDE), "nothing is decided about the inside host")
    check(wait_for(lambda: any(e.get("action") == "response.dry_run" and C2 in json.dumps(e)
                               for e in audit_entries(d)), 10),
          "the audit log holds response.dry_run for the C2 address")
    e = next(e for e in audit_entries(d) if e.get("action") == "response.dry_run")
    check("known-bad indicator" in json.dumps(e) and e.get("actor") == "hikeshi",
          "by hikeshi, under the policy rule: %s" % json.dumps(e)[:300])

    # The same over an untrusted input: asked, never acted on.
    send_tcp(d, ufw_line(INSIDE, C2_UNTRUSTED), OPEN)
    check(wait_for(lambda: responses(d, C2_UNTRUSTED), 10), "the untrusted report is decided")
    r = responses(d, C2_UNTRUSTED)
    check(r and r[0][0] == "pending" and "no trusted witness" in r[0][2] and
          not [x for x in r if x[0] in ("dry_run", "done")],
          "no trusted witness: the auto rule asks for approval, never acts: %s" % (r,))
    # Over UDP, even from a trusted sender: spoofable, refused.
    send_udp(ufw_line(INSIDE, C2_UDP))
    check(wait_for(lambda: responses(d, C2_UDP), 10), "the UDP report is decided")
    r = responses(d, C2_UDP)
    check(r and all(x[0] == "refused" and "could be spoofed" in x[2] for x in r),
          "UDP-only evidence is refused as spoofable: %s" % (r,))

    # A Medium indicator, and a feed the rule does not name: no match.
    send_tcp(d, ufw_line(INSIDE, C2_MEDIUM))
    send_tcp(d, ufw_line(INSIDE, C2_OTHER))
    check(wait_for(lambda: intel_alert(d, C2_MEDIUM) and intel_alert(d, C2_OTHER), 10),
          "both raise their intel alerts")
    # A marker decided after them (the decider takes triggers in order):
    # the untrusted report again, counted on its pending request.
    def seen():
        return rows(d, "SELECT seen FROM responses WHERE address = ? AND state = 'pending'",
                    (C2_UNTRUSTED,))[0][0]
    before = seen()
    send_tcp(d, ufw_line(INSIDE, C2_UNTRUSTED), OPEN)
    check(wait_for(lambda: seen() > before, 10),
          "the marker is decided: the pending request's seen count grows past %d" % before)
    check(not responses(d, C2_MEDIUM), "a Medium indicator does not feed indicator: high")
    check(not responses(d, C2_OTHER), "a feed not in indicator_feeds does not either")

    observables(d)
    check(d.stop() == 0, "the daemon stops cleanly")
    r = subprocess.run([BIN, "audit", "verify", os.path.join(d.data, "audit.log")],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the audit chain verifies: %s" % (r.stdout.strip() or r.stderr.strip()))
    srv.shutdown()
    finish()


def observables(d):
    tok = user_add(d, "ana", "analyst")
    # The C2 alert's incident holds C2 and the inside host, from the alert.
    check(wait_for(lambda: incident_with(d, tok, "ipv4", C2) is not None, 10),
          "an incident holds the C2 address as an observable")
    first = incident_with(d, tok, "ipv4", C2)
    st, body = api(d, tok, "GET", "/api/v1/incidents/%d/observables" % first)
    obs = {(o["type"], o["value"]): o for o in body["observables"]}
    c2 = obs.get(("ipv4", C2))
    check(c2 and c2["origin"] == "alert" and c2["alert"] and c2["added_by"] is None,
          "taken from an alert: %s" % (c2,))
    check(("ipv4", INSIDE) in obs, "and the inside host's address too: %s" % sorted(obs))

    # A second inside host reaching C2: another incident, linked by C2.
    send_tcp(d, ufw_line(INSIDE_2, C2))
    check(wait_for(lambda: incident_with(d, tok, "ipv4", C2, (first,)) is not None, 10),
          "a second incident holds C2 too")
    second = incident_with(d, tok, "ipv4", C2, (first,))
    for a, b in ((first, second), (second, first)):
        st, body = api(d, tok, "GET", "/api/v1/incidents/%d/observables" % a)
        c2 = next(o for o in body["observables"] if o["value"] == C2)
        check(b in c2["incidents"] and {"incident": b, "shared": 1} in body["linked_incidents"],
              "incident %d shows incident %d linked by C2: %s %s"
              % (a, b, c2["incidents"], body["linked_incidents"]))

    # An alert an analyst attaches to another incident brings its observables.
    st, alerts = api(d, tok, "GET", "/api/v1/incidents/%d/alerts" % first)
    agg = next((a["id"] for a in (alerts or {}).get("alerts", [])
                if C2 in json.dumps(a)), None) if st == 200 else None
    st, new = api(d, tok, "POST", "/api/v1/incidents", {"title": "C2 follow-up"})
    check(st == 201 and agg, "a new incident (%d) and an aggregated alert naming C2 (%s)"
          % (st, agg))
    st, _ = api(d, tok, "POST", "/api/v1/alerts/%d/attach" % agg, {"incident": new["id"]})
    check(st == 200, "the analyst attaches the alert to it (%d)" % st)
    st, body = api(d, tok, "GET", "/api/v1/incidents/%d/observables" % new["id"])
    got = {(o["type"], o["value"]): o for o in body["observables"]}
    c2 = got.get(("ipv4", C2))
    check(c2 and c2["origin"] == "alert" and c2["alert"] and first in c2["incidents"],
          "the attached alert's C2 address is an observable of the new incident, linked to "
          "incident %d: %s" % (first, c2))
    incidents_linked = [x["incident"] for x in body["linked_incidents"]]
    check(first in incidents_linked and second in incidents_linked,
          "the new incident is linked to both: %s" % body["linked_incidents"])

    # The same through the bulk action: open an incident from the selection.
    st, res = api(d, tok, "POST", "/api/v1/alerts/bulk",
                  {"action": "open_incident", "ids": [agg], "title": "C2 bulk"})
    bulk_inc = (res or {}).get("incident") if st == 200 else None
    check(bulk_inc, "a bulk open_incident over the alert (%d %s)" % (st, res))
    if bulk_inc:
        st, body = api(d, tok, "GET", "/api/v1/incidents/%d/observables" % bulk_inc)
        check(any(o["value"] == C2 and o["origin"] == "alert" for o in body["observables"]),
              "the incident the bulk action opened holds the alert's C2 address")

    # An analyst's observable: canonical, once, checked, removable.
    path = "/api/v1/incidents/%d/observables" % first
    st, o = api(d, tok, "POST", path, {"type": "domain", "value": "C2-Panel.Example.",
                                       "note": "from the proxy logs"})
    check(st == 201 and o["value"] == "c2-panel.example" and o["origin"] == "analyst" and
          o["added_by"] == "ana", "an analyst adds a domain, stored canonical: %d %s" % (st, o))
    st2, o2 = api(d, tok, "POST", path, {"type": "domain", "value": "c2-panel.example"})
    check(st2 == 200 and o2["id"] == o["id"], "the same again is the one held: %d" % st2)
    st, e = api(d, tok, "POST", path, {"type": "ipv4", "value": "10.0.1.300"})
    check(st == 400 and e.get("field") == "value" and "not a ipv4" in e.get("error", ""),
          "a bad address is refused naming the field: %d %s" % (st, e))
    st, e = api(d, tok, "POST", path, {"type": "colour", "value": "red"})
    check(st == 400 and e.get("field") == "type", "an unknown type is refused: %d %s" % (st, e))
    st, _ = api(d, tok, "DELETE", "%s/%d" % (path, o["id"]))
    check(st == 200, "the analyst removes it")
    st, _ = api(d, tok, "DELETE", "%s/%d" % (path, o["id"]))
    check(st == 404, "removing it again is 404")
    st, body = api(d, tok, "GET", path)
    check(not any(x["value"] == "c2-panel.example" for x in body["observables"]),
          "it is gone from the list")

    # Promotion to an indicator of the local feed, matched at once.
    st, u = api(d, tok, "POST", path, {"type": "user", "value": "svc-backup"})
    check(st == 201, "a user name is an observable")
    st, e = api(d, tok, "POST", "%s/%d/promote" % (path, u["id"]), {"tlp": "AMBER"})
    check(st == 400 and "cannot be promoted" in e.get("error", ""),
          "a user name cannot be promoted: %d %s" % (st, e))
    st, p = api(d, tok, "POST", path, {"type": "ipv4", "value": PROMOTED})
    check(st == 201, "an analyst adds an address seen elsewhere")
    st, e = api(d, tok, "POST", "%s/%d/promote" % (path, p["id"]), {"tlp": "BROWN"})
    check(st == 400 and e.get("field") == "tlp", "a bad TLP is refused: %d %s" % (st, e))
    seen = len(d.read_log())
    st, r = api(d, tok, "POST", "%s/%d/promote" % (path, p["id"]),
                {"tlp": "AMBER", "confidence": 90})
    check(st == 200 and r["feed"] == "local" and r["reloaded"] is True and
          r["observable"]["indicator"] == r["indicator"],
          "promoted to an indicator of feed local, the matcher reloaded: %d %s" % (st, r))
    listed = subprocess.run([BIN, "intel", "list", "--json", "-c", d.conf],
                            capture_output=True, text=True).stdout
    rows = [json.loads(x) for x in listed.splitlines() if x.strip()]
    mine = [x for x in rows if x["value"] == PROMOTED]
    check(len(mine) == 1 and mine[0]["feed"] == "local" and mine[0]["tlp"] == "AMBER" and
          mine[0]["confidence"] == 90, "intel list shows it: %s" % mine)
    check("intel: 6 indicators loaded" in d.read_log()[seen:],
          "the matcher holds it: %s" % d.read_log()[seen:].strip()[-200:])
    send_tcp(d, ufw_line(INSIDE, PROMOTED))
    check(wait_for(lambda: any(fields(a).get("threat.indicator.provider") == "local"
                               for a in intel_alert(d, PROMOTED)), 10),
          "a firewall line to it raises the intel alert, provider local")
    cli(d, tok, first, second)
    acts = [(e.get("action"), e.get("actor")) for e in audit_entries(d)]
    for a in ("observable.add", "observable.delete", "observable.promote"):
        check((a, "ana") in acts, "the audit log holds %s by ana" % a)


def cli(d, tok, first, second):
    """hikeshi incident observable: the same through the command line."""
    def run(*args):
        r = subprocess.run([BIN, "incident", "--url", "http://127.0.0.1:%d" % d.http] +
                           [str(a) for a in args], capture_output=True, text=True,
                           env=dict(os.environ, HIKESHI_TOKEN=tok))
        return r.returncode, r.stdout, r.stderr
    rc, out, err = run("observable", first, "add", "sha256", "A" * 64, "--note", "dropper")
    check(rc == 0 and ("(sha256 %s) added to incident %d" % ("a" * 64, first)) in out,
          "CLI: observable add, canonical: %s%s" % (out, err))
    oid = out.split()[1]
    rc, out, err = run("observable", first)
    line = next((x for x in out.splitlines() if C2 in x), "")
    check(rc == 0 and "a" * 64 in out and str(second) in line.split() and
          "linked: incident %d (1 shared)" % second in out,
          "CLI: observable lists them, C2 with the other incident, and the link: %s" % out)
    rc, out, err = run("observable", first, "--json")
    check(rc == 0 and {"incident": second, "shared": 1} in json.loads(out)["linked_incidents"],
          "CLI: --json prints the answer")
    rc, out, err = run("observable", first, "promote", oid)
    check(rc == 2 and "--tlp" in err, "CLI: promote without --tlp is a usage error: %s" % err)
    rc, out, err = run("observable", first, "add", "ipv4", "300.1.1.1")
    check(rc == 1 and "HTTP 400: not a ipv4" in err, "CLI: a bad value is refused: %s" % err)
    rc, out, err = run("observable", first, "promote", oid, "--tlp", "GREEN", "--confidence", "70")
    check(rc == 0 and "observable %s promoted to indicator" % oid in out and "feed local" in out,
          "CLI: observable promote: %s%s" % (out, err))
    rc, out, err = run("observable", first, "rm", oid)
    check(rc == 0 and "observable %s removed from incident %d" % (oid, first) in out,
          "CLI: observable rm: %s%s" % (out, err))
    rc, out, err = run("observable", first, "rm", oid)
    check(rc == 1 and "HTTP 404" in err, "CLI: rm again is refused: %s" % err)


if __name__ == "__main__":
    main()
