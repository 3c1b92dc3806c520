"""End to end: communications that are sent (issue 25, docs/incident.md
"Messages").

A local SMTP sink (a small socketserver SMTP server here: it accepts every
recipient but down@example.net, which it answers 451) and a webhook
receiver that checks each request's signature stand in for the world.
The daemon runs with incident.messages pointed at them (3 attempts, a 1 s
first wait) and the source tree's templates.

- A new incident gets its first report to the responsible person drafted
  by hikeshi (kind first_report, a draft); one click (send) approves and
  queues it; the sink receives it: drafted, approved, queued, sent,
  delivered, each on the timeline and in the audit log.
- A message to the press that carries a TLP:AMBER field (the summary) is
  refused by the disclosure rules at draft; one drafted with public fields
  is refused at approval once a field it carries is marked TLP:AMBER.
- A webhook message to another CSIRT arrives signed; a URL outside
  webhook_allow is refused.
- A mail the server refuses (451) is retried, then reported failed, with
  the server's answer, after 3 attempts.
- A reply posted to the intake route is attached to the message it quotes.
- An export message is written with a good HMAC signature."""

import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, call, check, finish, free_port, user_add, wait_for  # noqa: E402
import smtpsink  # noqa: E402

SECRET = b"m" * 16 + os.urandom(16).hex().encode()

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
incident:
  playbooks: {src}/playbooks
  messages:
    smtp: smtp://127.0.0.1:SMTPPORT
    from: csirt@example.org
    attempts: 3
    retry: 1s
    retry_max: 2s
    webhook_allow: [http://127.0.0.1:HOOKPORT/hook/]
    secret_file: {dir}/msg.key
    export_dir: {dir}/export
"""

mails = []      # (envelope recipients, data bytes)
rcpt_tries = []  # every RCPT TO address, accepted or not
hooks = []      # (document, signature good)
lock = threading.Lock()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Hikeshi-Timestamp", "")
        sig = self.headers.get("X-Hikeshi-Signature", "")
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        with lock:
            hooks.append((self.path, json.loads(body), hmac.compare_digest(sig, want)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def messages(d, tok, iid):
    st, doc = call(d, "GET", "/api/v1/incidents/%d/messages" % iid, tok)
    return doc.get("messages", []) if st == 200 else []


def message(d, tok, iid, mid):
    st, doc = call(d, "GET", "/api/v1/incidents/%d/messages/%d" % (iid, mid), tok)
    return doc if st == 200 else {}


def state_of(d, tok, iid, mid):
    return message(d, tok, iid, mid).get("message", {}).get("state")


def audit(d):
    return [json.loads(l) for l in open(os.path.join(d.data, "audit.log"), "rb").read()
            .split(b"\n") if l.strip()]


def msg_audit(d, mid):
    return [e["action"] for e in audit(d) if e["object"] == "message/%d" % mid or
            (e["action"] == "message.draft" and e.get("details", {}).get("message") == mid)]


def main():
    smtp_port = free_port()
    smtp = smtpsink.start(mails, lock, rcpt_tries, refuse={"down@example.net"}, port=smtp_port)
    hook_port = free_port()
    hsrv = ThreadingHTTPServer(("127.0.0.1", hook_port), Hook)
    threading.Thread(target=hsrv.serve_forever, daemon=True).start()

    d = Daemon(CONFIG.replace("SMTPPORT", str(smtp_port)).replace("HOOKPORT", str(hook_port)))
    key = os.path.join(d.dir, "msg.key")
    with open(key, "wb") as f:
        f.write(SECRET)
    os.chmod(key, 0o644)
    os.makedirs(os.path.join(d.dir, "export"))
    os.chmod(os.path.join(d.dir, "export"), 0o777)
    d.start()
    tok = user_add(d, "alice", "analyst")
    contacts = {}
    for name, kind, role, email in (("Rita Responsible", "vertical", "responsible",
                                     "rita@example.org"),
                                    ("Pat Press", "external", "press", "desk@news.example"),
                                    ("Dan Down", "external", "isp", "down@example.net")):
        st, c = call(d, "POST", "/api/v1/contacts", tok,
                     {"name": name, "kind": kind, "role": role, "email": email})
        check(st == 201, "contact %s added (%s)" % (name, st))
        contacts[role] = c.get("id")

    # --- the first report, drafted by hikeshi, sent with one click ------
    st, inc = call(d, "POST", "/api/v1/incidents", tok,
                   {"title": "Web server defaced", "summary": "index.html replaced on web01",
                    "type": "damage manifest"})
    check(st == 201, "incident opened (%s)" % st)
    iid = inc["id"]
    check(wait_for(lambda: any(m["kind"] == "first_report" for m in messages(d, tok, iid)),
                   timeout=10), "hikeshi drafted the first report within seconds")
    first = [m for m in messages(d, tok, iid) if m["kind"] == "first_report"][0]
    print("first report:", {k: first[k] for k in ("id", "party", "recipient", "state", "tlp",
                                                 "created_by", "subject")})
    check(first["party"] == "responsible" and first["recipient"] == "rita@example.org" and
          first["state"] == "draft" and first["created_by"] == "hikeshi" and
          first["channel"] == "smtp",
          "a draft to the responsible person (Rita), by hikeshi, waiting for a click")
    check(first["subject"].startswith("[TLP:AMBER] First report, incident %d" % iid) and
          "Threats faced:" in first["body"] and "Web server defaced" in first["body"],
          "written from playbooks/messages/responsible.txt, marked with its highest field")
    fid = first["id"]
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages/%d/send" % (iid, fid), tok)
    check(st == 200 and doc["message"]["state"] in ("queued", "sent", "delivered"),
          "one click (send) approves and queues the draft (%s %s)" % (st, doc))
    check(wait_for(lambda: state_of(d, tok, iid, fid) == "delivered", timeout=15),
          "the first report is delivered (%s)" % state_of(d, tok, iid, fid))
    with lock:
        got = [(r, m) for r, m in mails if r == ["rita@example.org"]]
    check(len(got) == 1, "the SMTP sink received it once, for rita@example.org (%d)" % len(got))
    if got:
        data = got[0][1].decode()
        check("Subject: [TLP:AMBER] First report, incident %d" % iid in data and
              "X-Hikeshi-Ref: %s" % first["ref"] in data and
              "Message-ID: <%s@example.org>" % first["ref"] in data and
              "From: <csirt@example.org>" in data and "index.html replaced" in data,
              "the mail carries the subject, reference, Message-ID, From and body")
    acts = msg_audit(d, fid)
    print("audit of the first report:", acts)
    check(acts == ["message.draft", "message.approve", "message.queue", "message.send",
                   "message.delivered"],
          "the audit log holds draft, approve, queue, send, delivered, in order")
    st, tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % iid, tok)
    steps = [e["to"] for e in tl.get("timeline", []) if e.get("what") == "message" and
             e.get("to", "").startswith("#%d " % fid)]
    print("timeline:", steps)
    check(len(steps) == 5 and "draft" in steps[0] and "delivered" in steps[-1],
          "the timeline holds the five steps")

    # --- the press and TLP:AMBER ---------------------------------------
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok,
                   {"party": "press", "contact": contacts["press"],
                    "fields": ["type", "phase", "summary"]})
    print("press with the summary:", st, doc)
    check(st == 422 and "summary" in doc.get("error", "") and
          "TLP:AMBER" in doc.get("error", "") and "press" in doc.get("error", ""),
          "a press message carrying the summary (TLP:AMBER) is refused by the disclosure rules")
    check(not [m for m in messages(d, tok, iid) if m["party"] == "press"],
          "and nothing was drafted")
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok,
                   {"party": "press", "contact": contacts["press"], "fields": ["title", "type"]})
    check(st == 422 and "TLP:GREEN" in doc.get("error", ""),
          "the title is TLP:GREEN by default: refused to the press too (%s)" % st)
    st, doc = call(d, "PUT", "/api/v1/incidents/%d/markings" % iid, tok, {"title": "TLP:CLEAR"})
    check(st == 200 and doc["markings"]["title"] == {"tlp": "TLP:CLEAR", "set": True},
          "the title marked TLP:CLEAR (%s)" % st)
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok,
                   {"party": "press", "contact": contacts["press"], "fields": ["title", "type"]})
    check(st == 201 and doc["message"]["tlp"] == "TLP:CLEAR" and
          "Web server defaced" in doc["message"]["body"],
          "now the press message is drafted, TLP:CLEAR (%s)" % st)
    pid = doc["message"]["id"]
    st, doc = call(d, "PUT", "/api/v1/incidents/%d/markings" % iid, tok, {"title": "amber"})
    check(st == 200, "the title marked TLP:AMBER again")
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages/%d/approve" % (iid, pid), tok)
    check(st == 422 and "TLP:AMBER" in doc.get("error", "") and
          state_of(d, tok, iid, pid) == "draft",
          "its approval is refused: the rules are checked again against today's markings")
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages/%d/cancel" % (iid, pid), tok)
    check(st == 200 and doc["message"]["state"] == "cancelled", "and it is cancelled")
    st, _ = call(d, "PUT", "/api/v1/incidents/%d/markings" % iid, tok, {"title": "TLP:PURPLE"})
    check(st == 400, "an unknown marking is refused (%s)" % st)

    # --- a webhook to another CSIRT ------------------------------------
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok,
                   {"party": "csirt", "channel": "webhook",
                    "recipient": "http://127.0.0.1:%d/elsewhere" % hook_port})
    check(st == 400 and "webhook_allow" in doc.get("error", ""),
          "a webhook outside webhook_allow is refused (%s)" % st)
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok,
                   {"party": "csirt", "channel": "webhook",
                    "recipient": "http://127.0.0.1:%d/hook/csirt" % hook_port})
    check(st == 201, "a webhook message to another CSIRT drafted (%s)" % st)
    wid = doc["message"]["id"]
    st, _ = call(d, "POST", "/api/v1/incidents/%d/messages/%d/approve" % (iid, wid), tok)
    check(st == 200 and state_of(d, tok, iid, wid) == "approved", "approved, not yet sent")
    time.sleep(1.5)
    check(not hooks, "an approved message waits for send")
    st, _ = call(d, "POST", "/api/v1/incidents/%d/messages/%d/send" % (iid, wid), tok)
    check(wait_for(lambda: state_of(d, tok, iid, wid) == "delivered", timeout=15),
          "the webhook message is delivered")
    with lock:
        h = list(hooks)
    check(len(h) == 1 and h[0][0] == "/hook/csirt" and h[0][2] and
          h[0][1]["message"] == wid and h[0][1]["party"] == "csirt" and
          h[0][1]["tlp"] == "TLP:AMBER" and "summary" in h[0][1]["fields"],
          "the receiver got one signed document naming the message (%s)" % h)

    # --- delivery failure: retried, then failed ------------------------
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok,
                   {"party": "isp", "contact": contacts["isp"]})
    check(st == 201 and doc["message"]["recipient"] == "down@example.net",
          "a message to the ISP's contact drafted (%s)" % st)
    did = doc["message"]["id"]
    st, _ = call(d, "POST", "/api/v1/incidents/%d/messages/%d/send" % (iid, did), tok)
    check(wait_for(lambda: state_of(d, tok, iid, did) == "failed", timeout=30),
          "the undeliverable message ends failed (%s)" % state_of(d, tok, iid, did))
    m = message(d, tok, iid, did).get("message", {})
    print("failed:", m.get("attempts"), m.get("error"))
    check(m.get("attempts") == 3 and "451" in (m.get("error") or "") or
          "RCPT" in (m.get("error") or ""),
          "after 3 attempts, with the server's refusal as the reason")
    with lock:
        n = rcpt_tries.count("down@example.net")
    check(n == 3, "the server saw exactly 3 attempts (%d)" % n)
    acts = msg_audit(d, did)
    print("audit of the failed message:", acts)
    check(acts == ["message.draft", "message.approve", "message.queue", "message.send",
                   "message.retry", "message.send", "message.retry", "message.send",
                   "message.failed"],
          "the audit log holds each attempt, the two retries and the failure")
    check("failed after 3 attempt(s)" in d.read_log(), "the daemon's log says it failed")

    # --- a reply attached by reference ---------------------------------
    st, doc = call(d, "POST", "/api/v1/messages/replies", tok,
                   {"ref": first["ref"], "from": "rita@example.org",
                    "subject": "Re: First report", "body": "Declare Orange for category B."})
    check(st == 201 and doc["message"]["id"] == fid and doc["message"]["replies"] == 1 and
          doc["replies"][0]["body"] == "Declare Orange for category B.",
          "the reply is attached to the first report (%s)" % st)
    st, doc = call(d, "POST", "/api/v1/messages/replies", tok,
                   {"ref": "hk-1-0000000000000000", "from": "x@example.org", "body": "?"})
    check(st == 404, "a reply quoting no message's reference is refused (%s)" % st)
    st, tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % iid, tok)
    check(any(e.get("what") == "message" and "reply from rita@example.org" in e.get("to", "")
              for e in tl.get("timeline", [])), "the reply is on the incident's timeline")

    # --- a signed export ------------------------------------------------
    st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok,
                   {"party": "regulator", "channel": "export", "recipient": "regulator"})
    check(st == 201, "an export message to the regulator drafted (%s)" % st)
    xid, xref = doc["message"]["id"], doc["message"]["ref"]
    call(d, "POST", "/api/v1/incidents/%d/messages/%d/send" % (iid, xid), tok)
    check(wait_for(lambda: state_of(d, tok, iid, xid) == "delivered", timeout=15),
          "the export is written")
    path = os.path.join(d.dir, "export", xref + ".json")
    body = open(path, "rb").read() if os.path.exists(path) else b""
    sig = open(path + ".sig").read().strip() if os.path.exists(path + ".sig") else ""
    check(body and hmac.compare_digest(sig, hmac.new(SECRET, body, hashlib.sha256).hexdigest()),
          "the export file's HMAC-SHA256 signature is good")
    check(json.loads(body or b"{}").get("party") == "regulator", "and it names the regulator")

    # --- bad requests ----------------------------------------------------
    for bad, why in (({"party": "journalist"}, "unknown party"),
                     ({"party": "csirt", "fields": ["secrets"]}, "unknown field"),
                     ({"party": "csirt", "recipient": "a@b@c"}, "bad address"),
                     ({"party": "csirt", "recipient": "x@example.org\r\nBcc: y@z"}, "CR LF"),
                     ({"party": "csirt", "channel": "pigeon", "recipient": "a@b"}, "channel")):
        st, doc = call(d, "POST", "/api/v1/incidents/%d/messages" % iid, tok, bad)
        check(st == 400, "refused: %s (%s %s)" % (why, st, doc.get("error")))
    st, _ = call(d, "POST", "/api/v1/incidents/%d/messages/%d/send" % (iid + 1, fid), tok)
    check(st == 404, "a message is only reached through its own incident (%s)" % st)
    st, _ = call(d, "POST", "/api/v1/incidents/%d/messages/%d/approve" % (iid, fid), tok)
    check(st == 409, "a delivered message cannot be approved again (%s)" % st)
    check(d.stop() == 0, "daemon stops cleanly")
    smtp.shutdown()
    hsrv.shutdown()


if __name__ == "__main__":
    main()
    finish()
