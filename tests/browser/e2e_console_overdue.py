"""End to end: the overdue banner and the red countdowns of the console
(issue 25, docs/console.md).

The real daemon on 127.0.0.1 with a first-aid target of 2 seconds (the
config's incident.targets) and the shipped playbooks by path.  Through the
API an analyst (ana) opens three incidents: two are moved to first aid and
run past its target, the third stays new (15 minutes to go).  The test
waits until the API itself lists two overdue (GET /incidents?overdue=1),
drafts two messages on the first (one approved), and runs
`node console_overdue.test.mjs`:

- the dashboard shows the red banner "2 incidents overdue" linking to the
  overdue list and to both overdue incidents, not the new one; their
  countdowns say "overdue by", are red and count up each second;
- the banner's link opens the incidents list filtered on overdue;
- the first incident's page shows the banner, its phase target counting in
  red, its messages with their states (draft, approved), and the
  procedures panel only when the daemon serves GET /api/v1/procedures
  (hidden, with no error, on a daemon without it).

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
from harness import DEFAULT_YAML, Daemon, check, finish  # noqa: E402
from e2e_console import CHROMIUM, SHOTS, call, prerequisites, user_add  # noqa: E402

CONFIG = DEFAULT_YAML + """
incident:
  playbooks: {src}/playbooks
  targets:
    - {{phase: first_aid, seconds: 2}}
"""

USER = ("ana", "ana's long passphrase")


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG)
    ana = user_add(d, "analyst", *USER)
    d.start()
    try:
        ids = []
        for title, cat in (("beacon from the print server", "B"),
                           ("defaced intranet page", "A"),
                           ("port scan from a neighbour", "C")):
            st, inc = call(d, "POST", "/api/v1/incidents", ana, {"title": title, "category": cat})
            check(st == 201, "ana opens %r (%s)" % (title, st))
            ids.append(inc.get("id", 0))
        for iid in ids[:2]:
            st, inc = call(d, "GET", "/api/v1/incidents/%d" % iid, ana)
            st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % iid, ana,
                           {"phase": "first_aid", "version": inc.get("version")})
            check(st == 200 and inc["deadline"]["has_target"],
                  "incident %d in first aid, with a target (%s)" % (iid, st))
        # Until the daemon itself says both are overdue (the target is 2 s;
        # the bound is only against a hang).
        over = []
        for _ in range(300):
            st, r = call(d, "GET", "/api/v1/incidents?overdue=1", ana)
            over = sorted(i["id"] for i in r.get("incidents", []))
            if over == sorted(ids[:2]):
                break
            time.sleep(0.1)
        check(over == sorted(ids[:2]), "the API lists the two in first aid as overdue (%s)" % over)
        st, m1 = call(d, "POST", "/api/v1/incidents/%d/messages" % ids[0], ana,
                      {"party": "responsible", "channel": "export", "recipient": "first-report",
                       "fields": ["title"]})
        check(st == 201, "a message drafted (%s %s)" % (st, m1))
        st, m2 = call(d, "POST", "/api/v1/incidents/%d/messages" % ids[0], ana,
                      {"party": "responsible", "channel": "export", "recipient": "lead-copy",
                       "fields": ["title"]})
        mid2 = (m2.get("message") or {}).get("id", 0) if isinstance(m2, dict) else 0
        st, m2 = call(d, "POST", "/api/v1/incidents/%d/messages/%d/approve" % (ids[0], mid2), ana,
                      {})
        check(st == 200 and m2.get("message", {}).get("state") == "approved",
              "a second one drafted and approved (%s %s)" % (st, m2))
        st, api = call(d, "GET", "/api/v1/openapi.json", ana)
        served = isinstance(api, dict) and "/api/v1/procedures" in api.get("paths", {})
        print("this daemon %s GET /api/v1/procedures" % ("serves" if served else "does not serve"))
        env = dict(os.environ,
                   HIKESHI_URL="http://127.0.0.1:%d" % d.http,
                   HIKESHI_USER=json.dumps({"name": USER[0], "password": USER[1]}),
                   HIKESHI_OVERDUE=json.dumps(ids[:2]),
                   HIKESHI_ONTIME=str(ids[2]),
                   HIKESHI_PROCEDURES="1" if served else "0",
                   HIKESHI_CHROMIUM=CHROMIUM,
                   HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_overdue.test.mjs")], env=env,
                           cwd=HERE, timeout=180)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_overdue.test.mjs: every browser check passed (exit %d)"
              % r.returncode)
    finally:
        rc = d.stop()
    check(rc == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
