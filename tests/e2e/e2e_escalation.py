"""End to end: clocks that escalate (issue 25, docs/incident.md).

The daemon runs with second-long phase targets (new: 6 s, a 3 s lead, 2 s
between escalations, chain assignee -> lead -> manager) and a webhook
receiver started here that checks each request's signature.  Incident A,
assigned to alice, must bring the notice to alice before its deadline,
then the escalation to the lead (a contact with role lead) at it and to
the manager after; of two leads the one outside her quiet hours, of two
managers the one on call in his rota's zone.  Incident B is opened and the daemon killed (-9) before
B's notice: restarted after B's whole deadline passed, B fires once, to
the manager, and A nothing again; a second kill -9 and restart fires
nothing.  /metrics counts (promtool check metrics), the audit log and the
timelines hold each step, the store's state says which step fired."""

import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Daemon, call, check, finish, free_port, promtool_check,  # noqa: E402
                     user_add, wait_for)
import smtpsink  # noqa: E402

SECRET = b"k" * 16 + os.urandom(16).hex().encode()

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
incident:
  targets:
    - {{phase: new, seconds: 6}}
  escalation:
    lead_time: 3s
    every: 2s
    notify: [http://127.0.0.1:HOOKPORT/hook]
    secret_file: {dir}/hook.key
    chain: [assignee, lead, manager]
  messages:
    smtp: smtp://127.0.0.1:SMTPPORT
    from: csirt@example.org
"""

received = []  # (arrival time, document, signature good)
mails = []  # (recipients, message bytes)
lock = threading.Lock()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Hikeshi-Timestamp", "")
        sig = self.headers.get("X-Hikeshi-Signature", "")
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {"unparsed": body.decode(errors="replace")}
        with lock:
            received.append((time.time(), doc, hmac.compare_digest(sig, want)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def of(iid):
    with lock:
        return [(t, doc, ok) for t, doc, ok in received if doc.get("incident") == iid]


def new_incident(d, tok, title, assignee):
    st, inc = call(d, "POST", "/api/v1/incidents", tok, {"title": title})
    check(st == 201, "incident %r opened (%s)" % (title, st))
    st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % inc["id"], tok,
                   {"assignee": assignee, "version": inc["version"]})
    check(st == 200 and inc.get("assignee") == assignee, "assigned to %s (%s)" % (assignee, st))
    return inc


def metrics(d):
    st, _, text = d.get("/metrics")
    return text


def kill9(d):
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.logf.close()


def main():
    hook_port = free_port()
    srv = ThreadingHTTPServer(("127.0.0.1", hook_port), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    smtp = smtpsink.start(mails, lock)
    d = Daemon(CONFIG.replace("HOOKPORT", str(hook_port))
               .replace("SMTPPORT", str(smtp.server_address[1])))
    key = os.path.join(d.dir, "hook.key")
    with open(key, "wb") as f:
        f.write(SECRET)
    os.chmod(key, 0o600)
    d.start()
    tok = user_add(d, "alice", "analyst")
    # Quiet hours and an on-call rota (docs/incident.md): Quinn, the first
    # lead by id, is in her quiet hours now (UTC, the hour either side), so
    # the lead's step skips her for Carol; Olga, a manager added after
    # Mark, is on call now in her zone (+09:00), so the manager's step goes
    # to her rather than to Mark, who says nothing of his hours.
    now = time.gmtime()
    mins = now.tm_hour * 60 + now.tm_min

    def hhmm(m):
        m %= 24 * 60
        return "%02d:%02d" % (m // 60, m % 60)

    quiet = "%s-%s" % (hhmm(mins - 60), hhmm(mins + 60))
    on_call = "daily %s-%s" % (hhmm(mins + 9 * 60 - 60), hhmm(mins + 9 * 60 + 60))
    for name, role, extra in (("Quinn Lead", "lead", {"quiet_hours": quiet}),
                              ("Carol Lead", "lead", {}), ("Mark Manager", "manager", {}),
                              ("Olga Manager", "manager",
                               {"on_call": on_call, "timezone": "+09:00"})):
        body = {"name": name, "kind": "vertical", "role": role,
                "email": name.split()[0].lower() + "@example.org"}
        body.update(extra)
        st, _ = call(d, "POST", "/api/v1/contacts", tok, body)
        check(st == 201, "contact %s (%s) added (%s)" % (name, role, st))
    st, c = call(d, "GET", "/api/v1/contacts", tok)
    olga = [x for x in (c or {}).get("contacts", []) if x.get("name") == "Olga Manager"]
    check(st == 200 and olga and olga[0].get("on_call") == on_call and
          olga[0].get("timezone") == "+09:00" and olga[0].get("quiet_hours") is None,
          "the contact shows its rota and zone (%s)" % (olga,))
    for body, field in (({"quiet_hours": "22:00-25:00"}, "quiet_hours"),
                        ({"on_call": "weekdays 09:00-17:00"}, "on_call"),
                        ({"timezone": "Mars/Olympus_Mons"}, "timezone")):
        body.update({"name": "Bad Hours", "kind": "vertical"})
        st, e = call(d, "POST", "/api/v1/contacts", tok, body)
        check(st == 400 and field in json.dumps(e),
              "a contact with a bad %s is refused naming it (%s %s)" % (field, st, e))

    # --- A: the notice, then up the chain -------------------------------
    a = new_incident(d, tok, "escalation A", "alice")
    a_id = a["id"]
    due = (a["phase_since_us"] + 6_000_000) / 1e6
    check(wait_for(lambda: len(of(a_id)) >= 3, timeout=20),
          "A: three webhooks within 20 s (%d)" % len(of(a_id)))
    got = of(a_id)
    print("A:", [(round(t - due, 2), doc.get("event"), doc.get("chain"), doc.get("to"))
                 for t, doc, _ in got])
    check(all(ok for _, _, ok in got), "every webhook carries a good signature")
    if len(got) >= 3:
        (t1, n1, _), (t2, e2, _), (t3, e3, _) = got[:3]
        check(n1["event"] == "incident.deadline_notice" and n1["to"] == "alice" and
              n1["chain"] == "assignee" and n1["overdue"] is False and n1["phase"] == "new",
              "A: first the deadline notice to the assignee alice, not yet overdue")
        check(due - 3.5 <= t1 < due, "A: the notice came at the lead time, before the "
              "deadline (%.2f s before)" % (due - t1))
        check(e2["event"] == "incident.escalation" and e2["chain"] == "lead" and
              e2["to"] == "Carol Lead" and e2["overdue"] is True and
              (e2.get("contact") or {}).get("email") == "carol@example.org" and
              e2.get("availability") == "available",
              "A: at the deadline, escalated to the lead, Carol Lead (Quinn is in her quiet "
              "hours), with her contact")
        check(t2 >= due, "A: the escalation came at or after the deadline (%.2f s)" % (t2 - due))
        check(e3["event"] == "incident.escalation" and e3["chain"] == "manager" and
              e3["to"] == "Olga Manager" and e3.get("availability") == "on-call" and
              (e3.get("contact") or {}).get("on_call") == on_call and t3 >= due + 2,
              "A: then to the manager on call, Olga Manager, 2 s later (%.2f s)" % (t3 - due))
        check(n1["deadline"] == e2["deadline"] and n1["title"] == "escalation A",
              "the documents name the incident and its deadline")
    time.sleep(2.5)
    check(len(of(a_id)) == 3, "A: nothing more once the chain is at its end (%d)" % len(of(a_id)))
    m = metrics(d)
    promtool_check(m, "/metrics with the escalation clock")
    check(d.metric(m, "hikeshi_incident_overdue") == 1, "hikeshi_incident_overdue is 1 (A)")
    check(d.metric(m, "hikeshi_incident_escalations_total") == 2,
          "hikeshi_incident_escalations_total is 2")
    check(d.metric(m, "hikeshi_incident_deadline_notices_total") == 1,
          "hikeshi_incident_deadline_notices_total is 1")
    st, tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % a_id, tok)
    steps = [e for e in (tl or {}).get("timeline", []) if e.get("what") in
             ("deadline_notice", "escalation")]
    print("A timeline:", steps)
    check([e["what"] for e in steps] == ["deadline_notice", "escalation", "escalation"] and
          "Carol Lead" in steps[1].get("to", "") and "Olga Manager" in steps[2].get("to", ""),
          "A's timeline marks the notice and both escalations, naming whom")

    # --- B: its deadline passes while the daemon is down ----------------
    b = new_incident(d, tok, "escalation B", "bob")
    b_id = b["id"]
    kill9(d)
    b_due = (b["phase_since_us"] + 6_000_000) / 1e6
    check(time.time() < b_due - 3, "killed before B's notice was due")
    time.sleep(max(0, b_due + 3 - time.time()))
    check(of(b_id) == [], "nothing for B while the daemon is down")
    d.start()
    check(wait_for(lambda: len(of(b_id)) >= 1, timeout=10), "B fires after the restart")
    time.sleep(3)
    got = of(b_id)
    print("B:", [(round(t - b_due, 2), doc.get("event"), doc.get("chain")) for t, doc, _ in got])
    check(len(got) == 1 and got[0][1]["event"] == "incident.escalation" and
          got[0][1]["chain"] == "manager" and got[0][1]["to"] == "Olga Manager",
          "B: once, the step due now (to the manager), no late notice, no lead escalation")
    check(len(of(a_id)) == 3, "A: nothing fired twice after kill -9 and restart")
    m = metrics(d)
    check(d.metric(m, "hikeshi_incident_overdue") == 2, "hikeshi_incident_overdue is 2 (A, B)")
    check(d.metric(m, "hikeshi_incident_escalations_total") == 1,
          "this run: hikeshi_incident_escalations_total is 1 (B)")

    # --- a second kill -9 and restart: nothing -------------------------
    kill9(d)
    d.start()
    time.sleep(3)
    check(len(of(a_id)) == 3 and len(of(b_id)) == 1,
          "a second restart fires nothing (%d, %d)" % (len(of(a_id)), len(of(b_id))))
    check(d.stop() == 0, "daemon stops cleanly")

    con = d.db()
    rows = {r["incident_id"]: r["step"] for r in
            con.execute("SELECT incident_id, step FROM incident_clock WHERE phase = 'new'")}
    con.close()
    check(rows == {a_id: 3, b_id: 3}, "the store holds the last step per deadline (%s)" % rows)
    ent = [json.loads(l) for l in open(os.path.join(d.data, "audit.log"), "rb").read()
           .split(b"\n") if l.strip()]
    esc = [(e["action"], e["object"], e["actor"]) for e in ent
           if e["action"] in ("incident.deadline_notice", "incident.escalation")]
    print("audit:", esc)
    check(sorted(esc) == sorted([("incident.deadline_notice", "incident/%d" % a_id, "hikeshi"),
                                 ("incident.escalation", "incident/%d" % a_id, "hikeshi"),
                                 ("incident.escalation", "incident/%d" % a_id, "hikeshi"),
                                 ("incident.escalation", "incident/%d" % b_id, "hikeshi")]),
          "the audit log has one entry per step fired, by hikeshi")
    woke = sorted((e["details"].get("to"), e["details"].get("availability")) for e in ent
                  if e["action"] == "incident.escalation")
    check(woke == [("Carol Lead", "available"), ("Olga Manager", "on-call"),
                   ("Olga Manager", "on-call")],
          "each escalation's audit entry says whom it called and how they stood (%s)" % woke)
    # The same steps by mail (incident.messages' SMTP server) to the
    # contacts who have an address: the lead's and both manager steps;
    # alice (the assignee) is no contact, so her notice goes by webhook only.
    with lock:
        got_mail = sorted((tuple(r), m) for r, m in mails)
    subj = [(r, (re.search(rb"^Subject: (.*)$", m, re.M) or [b"", b""])[1].decode().strip())
            for r, m in got_mail]
    print("mails:", subj)
    check([r for r, _ in subj] == [("carol@example.org",), ("olga@example.org",),
                                   ("olga@example.org",)],
          "the escalations reach Carol and Olga by mail at the SMTP sink, once each step")
    check(all("escalation" in t and "hikeshi: incident" in t for _, t in subj) and
          any("escalation A" in t for _, t in subj) and any("escalation B" in t for _, t in subj),
          "each mail's subject names the step and the incident")
    check(all(b'"availability"' in m for _, m in got_mail),
          "the mail carries the step's document, with whom it called and how they stood")
    srv.shutdown()
    smtp.shutdown()


if __name__ == "__main__":
    main()
    finish()
