"""End to end: the responsible person's approval queue in the console
(issue 25, docs/console.md).

The real daemon on 127.0.0.1 with an analyst (ana) and a lead (lee), both
with passwords.  Through the API ana opens an incident of category B,
takes it to the emergency phase and asks to declare Orange: 202, an
approval.  Then `node console_lead.test.mjs`:

- ana logs in: the dashboard lists the waiting decision (what, who asked)
  without approve/reject controls; on the incident page she asks to move
  it to watch, and the page says the request waits for approval instead of
  moving it;
- lee logs in (a second browser context): the dashboard lists both with
  their controls; he approves the Orange (the incident is Orange), tries
  to reject the phase change without a note (the API's sentence is shown,
  nothing changes), then rejects it with a note.

Afterwards the API and the audit log must agree: the Orange applied in
lee's name on ana's request, the rejection with its note.

Needs /usr/bin/chromium (HIKESHI_CHROMIUM) and tests/browser/node_modules
(`npm ci` in tests/browser); without them the test FAILS saying which is
missing."""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BIN, DEFAULT_YAML, Daemon, check, finish  # noqa: E402
from e2e_console import CHROMIUM, SHOTS, call, prerequisites, user_add  # noqa: E402

# The shipped playbooks by path, whatever the working directory: first
# aid's required task is ticked through the API before the move on.
CONFIG = DEFAULT_YAML + """
incident:
  playbooks: {src}/playbooks
"""

USERS = {"analyst": ("ana", "ana's long passphrase"), "lead": ("lee", "lee's long passphrase")}


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG)
    tok = {role: user_add(d, role, name, pw) for role, (name, pw) in USERS.items()}
    d.start()
    try:
        ana = tok["analyst"]
        st, inc = call(d, "POST", "/api/v1/incidents", ana,
                       {"title": "beaconing from the print server", "category": "B"})
        check(st == 201, "ana opens an incident (%s)" % st)
        iid = inc.get("id", 0) if isinstance(inc, dict) else 0
        for ph in ("first_aid", "emergency"):
            st, inc = call(d, "GET", "/api/v1/incidents/%d" % iid, ana)
            if ph == "emergency":
                st, ts = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, ana)
                req = [t for t in ts.get("tasks", []) if t.get("phase") == "first_aid"
                       and t.get("required") and not t.get("done")]
                check(req, "first aid has a required task from the default playbook")
                for t in req:
                    st, _ = call(d, "PATCH", "/api/v1/incidents/%d/tasks/%d" % (iid, t["id"]),
                                 ana, {"done": True})
                    check(st == 200, "ana ticks %s (%s)" % (t.get("title"), st))
            st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % iid, ana,
                           {"phase": ph, "version": inc.get("version")})
            check(st == 200, "ana moves it to %s (%s)" % (ph, st))
        st, ap = call(d, "PATCH", "/api/v1/incidents/%d" % iid, ana,
                      {"level": "Orange", "reason": "C2 confirmed",
                       "version": inc.get("version")})
        check(st == 202 and ap.get("state") == "pending",
              "ana's Orange waits for approval (%s %s)" % (st, ap))
        env = dict(os.environ,
                   HIKESHI_URL="http://127.0.0.1:%d" % d.http,
                   HIKESHI_USERS=json.dumps({r: {"name": n, "password": p}
                                             for r, (n, p) in USERS.items()}),
                   HIKESHI_INCIDENT=str(iid),
                   HIKESHI_APPROVAL=str(ap.get("id", 0)),
                   HIKESHI_CHROMIUM=CHROMIUM,
                   HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_lead.test.mjs")], env=env,
                           cwd=HERE, timeout=180)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_lead.test.mjs: every browser check passed (exit %d)"
              % r.returncode)
        st, inc = call(d, "GET", "/api/v1/incidents/%d" % iid, ana)
        check(inc.get("level") == "Orange" and inc.get("phase") == "emergency",
              "API: the incident is Orange and still in emergency (%s %s)"
              % (inc.get("level"), inc.get("phase")))
        st, q = call(d, "GET", "/api/v1/approvals", ana)
        got = sorted((a["what"], a["state"], a["requested_by"], a["decided_by"], a["note"])
                     for a in q.get("approvals", []))
        want = sorted([("declare Orange", "approved", "ana", "lee", None),
                       ("close the emergency phase (to watch)", "rejected", "ana", "lee",
                        "not yet: the beacon is still active")])
        check(got == want, "API: one approved, one rejected with its note (%s)" % got)
    finally:
        rc = d.stop()
    check(rc == 0, "SIGTERM exits 0")
    acts = []
    with open(os.path.join(d.data, "audit.log")) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            acts.append((e.get("actor"), e.get("action")))
    check(acts.count(("ana", "approval.request")) == 2 and ("lee", "approval.approve") in acts
          and ("lee", "approval.reject") in acts,
          "audit: ana's two requests, lee's approval and rejection")
    r = subprocess.run([BIN, "audit", "verify", os.path.join(d.data, "audit.log")],
                       capture_output=True, text=True)
    check(r.returncode == 0, "the audit log verifies (%s)" % r.stderr.strip())
    finish()


if __name__ == "__main__":
    main()
