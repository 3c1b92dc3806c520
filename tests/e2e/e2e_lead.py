"""End to end: the responsible person (issue 25, docs/incident.md "The
responsible person").

A daemon with four users: ana (analyst), lee and lou (lead), root (admin).
An incident of category B is taken to the emergency phase by ana.  Ana's
request to declare Orange and later to close the emergency phase are not
applied: each answers 202 with an approval in the queue.  Lee, named the
responsible person, approves; lou (another lead) may not; ana may not
answer at all.  Closing the emergency phase leaves the incident in watch
at Yellow, declares Yellow for category B, and the watch deadline is the
Yellow one.  A rejection needs a note.  A lead, not an analyst, declares a
category's level.  An analyst who opens an incident at Red gets it at
Yellow, with the Red as a request in the queue (201, the approval in the
answer); a lead opens at Orange directly.  Every step is in the audit log.

The daemon loads the shipped playbooks by an explicit path (whatever the
working directory), so the default playbook's required first-aid task
stands between first aid and emergency: moving on with it open is refused
(422), ticking it through the tasks API lets the move through."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, DEFAULT_YAML, Daemon, call, check, finish, user_add  # noqa: E402

# The shipped playbooks named by path: the test does not depend on the
# directory it is started from (./playbooks is the default).
CONFIG = DEFAULT_YAML + """
incident:
  playbooks: {src}/playbooks
"""


def get_inc(d, tok, iid):
    st, inc = call(d, "GET", "/api/v1/incidents/%d" % iid, tok)
    check(st == 200, "incident %d readable (%s)" % (iid, st))
    return inc


def patch(d, tok, iid, body):
    inc = get_inc(d, tok, iid)
    body = dict(body, version=inc["version"])
    return call(d, "PATCH", "/api/v1/incidents/%d" % iid, tok, body)


def tick_required(d, tok, iid, phase):
    """Ticks the open required tasks of `phase` through the tasks API; how
    many it ticked."""
    st, r = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, tok)
    check(st == 200, "the tasks of incident %d are readable (%s)" % (iid, st))
    n = 0
    for t in r.get("tasks", []):
        if t.get("phase") == phase and t.get("required") and not t.get("done"):
            st, _ = call(d, "PATCH", "/api/v1/incidents/%d/tasks/%d" % (iid, t["id"]), tok,
                         {"done": True})
            check(st == 200, "task %s ticked (%s)" % (t.get("title"), st))
            n += 1
    return n


def main():
    d = Daemon(CONFIG).start()
    try:
        ana = user_add(d, "ana", "analyst")
        lee = user_add(d, "lee", "lead")
        lou = user_add(d, "lou", "lead")
        root = user_add(d, "root", "admin")

        st, inc = call(d, "POST", "/api/v1/incidents", ana,
                       {"title": "client laptops beaconing", "category": "B"})
        check(st == 201, "ana opens an incident (%s)" % st)
        iid = inc["id"]
        check(inc.get("responsible") is None, "no responsible person at first")
        st, inc = patch(d, ana, iid, {"phase": "first_aid"})
        check(st == 200 and inc["phase"] == "first_aid", "ana moves it to first_aid (%s)" % st)
        # The playbook's gate: first aid is not left with a required task open.
        st, err = patch(d, ana, iid, {"phase": "emergency"})
        check(st == 422 and "cannot leave first_aid" in err.get("error", ""),
              "emergency is refused while first aid's required task is open (%s %s)" % (st, err))
        check(tick_required(d, ana, iid, "first_aid") >= 1,
              "the default playbook gave first aid a required task, ticked now")
        st, inc = patch(d, ana, iid, {"phase": "emergency"})
        check(st == 200 and inc["phase"] == "emergency", "ana moves it to emergency (%s)" % st)

        # Declaring Orange is a decision: with nobody responsible, any lead's.
        st, ap = patch(d, ana, iid, {"level": "Orange", "reason": "C2 traffic confirmed"})
        check(st == 202 and ap.get("state") == "pending" and "declare Orange" in ap.get("what", ""),
              "ana's Orange becomes an approval (%s %s)" % (st, ap))
        check(get_inc(d, ana, iid)["level"] == "Green", "the level is not changed by the request")
        st, _ = call(d, "POST", "/api/v1/approvals/%d/approve" % ap["id"], ana)
        check(st == 403, "an analyst cannot answer the queue (%s)" % st)
        st, done = call(d, "POST", "/api/v1/approvals/%d/approve" % ap["id"], lou)
        check(st == 200 and done["state"] == "approved" and done["decided_by"] == "lou",
              "a lead approves it when nobody is responsible (%s %s)" % (st, done))
        inc = get_inc(d, ana, iid)
        check(inc["level"] == "Orange", "the approved request is applied: Orange")
        st, _ = call(d, "POST", "/api/v1/approvals/%d/approve" % ap["id"], lou)
        check(st == 409, "an approval is answered once (%s)" % st)

        # The responsible person: a lead or admin, named by a lead.
        st, err = patch(d, lee, iid, {"responsible": "ana"})
        check(st == 400 and "lead or admin" in err.get("error", ""),
              "an analyst cannot be the responsible person (%s %s)" % (st, err))
        st, err = patch(d, lee, iid, {"responsible": "nobody"})
        check(st == 400, "the responsible person must be a user (%s)" % st)
        st, inc = patch(d, lee, iid, {"responsible": "lee"})
        check(st == 200 and inc["responsible"] == "lee", "lee names himself responsible (%s)" % st)
        st, ap = patch(d, lou, iid, {"responsible": "lou"})
        check(st == 202, "another lead's change of the responsible person waits for lee (%s)" % st)
        st, _ = call(d, "POST", "/api/v1/approvals/%d/reject" % ap["id"], lee, {})
        check(st == 400, "a rejection without a note is refused (%s)" % st)
        st, rej = call(d, "POST", "/api/v1/approvals/%d/reject" % ap["id"], lee,
                       {"note": "I stay on it"})
        check(st == 200 and rej["state"] == "rejected" and rej["note"] == "I stay on it",
              "lee rejects it with a note (%s %s)" % (st, rej))
        check(get_inc(d, ana, iid)["responsible"] == "lee", "lee is still responsible")

        # Closing the emergency phase: ana asks, lou may not, lee does.
        st, ap = patch(d, ana, iid, {"phase": "watch", "reason": "contained"})
        check(st == 202 and "close the emergency phase" in ap.get("what", ""),
              "an analyst cannot close the emergency phase: an approval (%s %s)" % (st, ap))
        check(ap.get("requested_by") == "ana", "the approval names who asked")
        check(get_inc(d, ana, iid)["phase"] == "emergency", "still in emergency")
        st, q = call(d, "GET", "/api/v1/approvals?state=pending", lee)
        check(st == 200 and [a["id"] for a in q["approvals"]] == [ap["id"]],
              "the lead's queue holds the one pending request (%s %s)" % (st, q))
        st, _ = call(d, "POST", "/api/v1/approvals/%d/approve" % ap["id"], lou)
        check(st == 403, "lou, not the responsible person, cannot approve (%s)" % st)
        st, _ = patch(d, lou, iid, {"phase": "watch"})
        check(st == 202, "nor close the phase himself: his request waits too (%s)" % st)
        st, done = call(d, "POST", "/api/v1/approvals/%d/approve" % ap["id"], lee,
                        {"note": "agreed"})
        check(st == 200 and done["state"] == "approved", "lee approves (%s %s)" % (st, done))
        inc = get_inc(d, ana, iid)
        check(inc["phase"] == "watch", "the incident is in watch (%s)" % inc["phase"])
        check(inc["level"] == "Yellow", "leaving the emergency phase set Yellow (%s)" % inc["level"])
        dl = inc["deadline"]
        check(dl["has_target"] and dl["left_seconds"] > 13 * 86400,
              "watch has its own target, 14 days (%s)" % dl)
        st, lv = call(d, "GET", "/api/v1/declared-level", ana)
        cur = lv.get("current", lv)
        check(st == 200 and cur.get("B") and cur["B"]["level"] == "Yellow",
              "category B is declared Yellow (%s %s)" % (st, lv))
        st, tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % iid, ana)
        entries = tl.get("timeline", [])
        check(any(e["what"] == "phase" and e["to"] == "watch" and e["who"] == "lee"
                  and "ana" in (e.get("reason") or "") for e in entries),
              "the timeline: lee moved it to watch on ana's request")
        # lou's request is stale now (the incident changed): refused.
        st, q = call(d, "GET", "/api/v1/approvals?state=pending", lee)
        stale = q["approvals"][0]["id"]
        st, _ = call(d, "POST", "/api/v1/approvals/%d/approve" % stale, lee)
        check(st == 409, "a request made on an older version cannot be approved (%s)" % st)

        # The responsible person closes directly; an admin always may.
        st, inc = patch(d, lee, iid, {"phase": "closed", "reason": "eradicated"})
        check(st == 200 and inc["phase"] == "closed", "lee closes the incident (%s)" % st)
        st, inc2 = call(d, "POST", "/api/v1/incidents", ana, {"title": "second"})
        id2 = inc2["id"]
        st, _ = patch(d, ana, id2, {"phase": "closed", "reason": "duplicate"})
        check(st == 202, "ana's closing of an incident is a request (%s)" % st)
        # The same through the command line: it says the request waits.
        env = dict(os.environ, HIKESHI_TOKEN=ana)
        r = subprocess.run([BIN, "incident", "-c", d.conf, "update", str(id2), "--phase",
                            "closed", "--reason", "duplicate of 1"], capture_output=True,
                           text=True, env=env, timeout=60)
        check(r.returncode == 0 and "not changed yet: close the incident waits for a lead "
              "(approval " in r.stdout and get_inc(d, ana, id2)["phase"] == "new",
              "hikeshi incident update as an analyst: the close waits, said so (%s %r %r)"
              % (r.returncode, r.stdout, r.stderr))
        st, inc2 = patch(d, root, id2, {"phase": "closed", "reason": "duplicate"})
        check(st == 200 and inc2["phase"] == "closed", "an admin closes it (%s)" % st)
        st, q = call(d, "GET", "/api/v1/approvals?state=bogus", lee)
        check(st == 400, "an unknown state filter is refused (%s)" % st)

        # Opening at Orange or Red is declaring it: an analyst's opening is
        # made at Yellow and the level asked for waits for a lead (201, the
        # approval in the answer); a lead's opening is made as asked.
        st, inc3 = call(d, "POST", "/api/v1/incidents", ana,
                        {"title": "ransom note on the file server", "category": "C",
                         "level": "Red"})
        ap3 = inc3.get("approval") or {}
        check(st == 201 and inc3.get("level") == "Yellow",
              "ana opens an incident asking for Red: it opens at Yellow (%s %s)"
              % (st, inc3.get("level")))
        check(ap3.get("state") == "pending" and ap3.get("what") == "declare Red"
              and ap3.get("requested_by") == "ana" and ap3.get("incident") == inc3.get("id")
              and ap3.get("body", {}).get("level") == "Red",
              "the answer carries the pending request to declare Red (%s)" % ap3)
        st, q = call(d, "GET", "/api/v1/approvals?state=pending", lee)
        check(ap3.get("id") in [a["id"] for a in q.get("approvals", [])],
              "the request is in the lead's queue")
        st, tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % inc3["id"], ana)
        check(any(e["what"] == "level" and e["to"] == "Yellow"
                  and "Red asked for" in (e.get("reason") or "") for e in tl.get("timeline", [])),
              "the timeline: opened at Yellow, Red asked for (%s)" % tl.get("timeline"))
        st, done = call(d, "POST", "/api/v1/approvals/%d/approve" % ap3["id"], lou)
        check(st == 200 and done["state"] == "approved", "lou approves the Red (%s)" % st)
        check(get_inc(d, ana, inc3["id"])["level"] == "Red", "the incident is Red now")
        st, inc4 = call(d, "POST", "/api/v1/incidents", ana,
                        {"title": "probe from a scanner", "category": "A", "level": "Yellow"})
        check(st == 201 and inc4.get("level") == "Yellow" and "approval" not in inc4,
              "an analyst's opening at Yellow needs nobody (%s %s)" % (st, inc4.get("level")))
        st, inc5 = call(d, "POST", "/api/v1/incidents", lee,
                        {"title": "worm in the plant network", "category": "D",
                         "level": "Orange"})
        check(st == 201 and inc5.get("level") == "Orange" and "approval" not in inc5,
              "a lead opens an incident at Orange directly (%s %s)" % (st, inc5.get("level")))

        # The organisation's level per category: a lead's to declare.
        body = {"category": "C", "level": "Red", "why": "ransomware on the file servers"}
        st, _ = call(d, "POST", "/api/v1/declared-level", ana, body)
        check(st == 403, "an analyst cannot declare a category's level (%s)" % st)
        st, dec = call(d, "POST", "/api/v1/declared-level", lou, body)
        check(st == 201 and dec.get("level") == "Red" and dec.get("who") == "lou",
              "a lead declares Red for category C (%s %s)" % (st, dec))
    finally:
        rc = d.stop()
    check(rc == 0, "the daemon stops cleanly on SIGTERM (%s)" % rc)

    log = os.path.join(d.data, "audit.log")
    r = subprocess.run([BIN, "audit", "verify", log], capture_output=True, text=True)
    check(r.returncode == 0, "the audit log verifies (%s)" % r.stderr.strip())
    acts = []
    with open(log) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            acts.append((e.get("actor"), e.get("action"), e.get("object", ""),
                         e.get("details") or {}))
    for who, act in (("ana", "approval.request"), ("lou", "approval.approve"),
                     ("lee", "approval.reject"), ("lee", "approval.approve")):
        check((who, act) in [(w, a) for w, a, _, _ in acts], "audit: %s %s" % (who, act))
    req = [d for w, a, _, d in acts if a == "approval.request" and
           "close the emergency phase" in d.get("what", "")]
    check(len(req) == 2 and {d.get("decider") for d in req} == {"lee"},
          "audit: both requests to close the emergency phase name lee as decider (%s)" % req)
    opened = [d for w, a, o, d in acts if (w, a) == ("ana", "incident.create")
              and d.get("approval")]
    check(len(opened) == 1 and opened[0]["approval"].get("what") == "declare Red"
          and {"what": "level", "from": "Green", "to": "Yellow"} in opened[0].get("changes", []),
          "audit: ana's opening at Yellow holds her request for Red (%s)" % opened)
    watch = [d for w, a, _, d in acts if (w, a) == ("lee", "approval.approve")]
    change = watch[0].get("change") or {} if watch else {}
    check(watch and watch[0].get("requested_by") == "ana" and watch[0].get("note") == "agreed"
          and {"what": "level", "from": "Orange", "to": "Yellow"} in change.get("changes", [])
          and change.get("declared") == {"category": "B", "level": "Yellow"},
          "audit: lee's approval holds the change to watch, Orange to Yellow and the "
          "declaration of Yellow for B (%s)" % watch)
    # (Her openings at Yellow are her own: not requests.)
    applied = [c for w, a, _, d in acts if w == "ana" and a != "incident.create"
               for c in d.get("changes", [])
               if c.get("to") in ("watch", "closed", "Orange", "Yellow")]
    check(not applied and [c for w, a, _, d in acts if w == "ana"
                           for c in d.get("changes", []) if c.get("to") == "emergency"],
          "audit: ana's own changes are there, none of her requests was applied in her name "
          "(%s)" % applied)
    finish()


main()
