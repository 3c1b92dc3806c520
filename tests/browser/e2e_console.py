"""End to end: the web console in headless Chromium (issue 7).

This driver sets the stage with tests/e2e/harness.py and hands the browser
part to console.test.mjs (playwright-core driving Debian's chromium):

- the real daemon on 127.0.0.1 follows the bench generator's day (20k
  records) and one hostile web-access line whose user agent is HTML and
  script, which rules/web_sql_injection.yml fires on (high: an incident);
- an admin, an analyst and a viewer with passwords (`hikeshi user add
  --password-stdin`), so the console logs them in through its form;
- a declared level for each category and a risk-meter sample, so the
  dashboard has figures to show;
- then `node console.test.mjs` with the URL, the users and the ids in the
  environment; it prints one "ok - ..." / "not ok - ..." line per check.

Afterwards the daemon is stopped and its audit log must verify and hold the
changes the analyst made through the console under the analyst's name.

Needs /usr/bin/chromium (HIKESHI_CHROMIUM) and tests/browser/node_modules
(`npm ci` in tests/browser); without them the test FAILS saying which is
missing.  Screenshots go to $HIKESHI_SCREENSHOTS (meson: BUILDDIR/console-
screenshots)."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BIN, SOURCE, Daemon, check, finish, wait_for  # noqa: E402

GEN = os.environ.get("HIKESHI_GEN", "build/bench/hikeshi-gen")
CHROMIUM = os.environ.get("HIKESHI_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("HIKESHI_SCREENSHOTS", os.path.join(os.getcwd(), "console-screenshots"))
RECORDS = 20000

CONFIG = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
triage:
  config: {src}/rules/config/triage.yaml
incident:
  playbooks: {src}/playbooks
inputs:
  - name: gen
    type: file
    path: {dir}/day.log
    from_start: true
    poll_ms: 50
  - name: web
    type: file
    path: {dir}/hostile.log
    from_start: true
    poll_ms: 50
"""

# An SQL injection (rules/web_sql_injection.yml, level high: it opens an
# incident of its own) from a client whose user agent is markup that runs
# script if the console ever parses it as HTML: the <img> sets window.__xss
# on its failed load.
HOSTILE_IP = "203.0.113.66"
HOSTILE_UA = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"

USERS = {
    "admin": ("alice", "alice's long passphrase"),
    "analyst": ("bob", "bob's long passphrase"),
    "viewer": ("victor", "victor's long passphrase"),
}


def hostile_line():
    t = time.gmtime(time.time() - 300)
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", t)
    return ('%s - - [%s] "GET /products.php?id=1%%20UNION%%20SELECT%%20password%%20FROM%%20users'
            ' HTTP/1.1" 200 1432 "-" "%s"\n' % (HOSTILE_IP, stamp, HOSTILE_UA))


def call(d, method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), data=data,
                                 method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def user_add(d, role, name, password):
    """A user with a password; its API token (printed once) for the checks
    made outside the browser."""
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", role, "--password-stdin",
                        name], input=password + "\n", capture_output=True, text=True)
    tok = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
    check(r.returncode == 0 and len(tok) == 1,
          "user add --password-stdin %s (%s) %s" % (name, role, r.stderr.strip()))
    return tok[0] if tok else ""


def prerequisites():
    """What the browser part needs; each missing piece is a failure with
    what to do about it (not a skip)."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append("%s (apt-get install chromium, or set HIKESHI_CHROMIUM)" % CHROMIUM)
    if not shutil.which("node"):
        missing.append("node (apt-get install nodejs npm)")
    if not os.path.isfile(os.path.join(HERE, "node_modules", "playwright-core", "package.json")):
        missing.append("%s/node_modules/playwright-core (run `npm ci` in %s)" % (HERE, HERE))
    for m in missing:
        check(False, "the browser test needs " + m)
    return not missing


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG)
    subprocess.run([GEN, "--records", str(RECORDS), "--seed", "7",
                    "--start", time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                             time.gmtime(time.time() - 86400)),
                    "-o", os.path.join(d.dir, "day.log")], check=True)
    with open(os.path.join(d.dir, "hostile.log"), "w") as f:
        f.write(hostile_line())
    tok = {role: user_add(d, role, name, pw) for role, (name, pw) in USERS.items()}
    d.start()
    try:
        rc = stage_and_run(d, tok)
    finally:
        stopped = d.stop()
    check(stopped == 0, "SIGTERM exits 0")
    if rc is not None:
        audit(d, rc)
    finish()


def stage_and_run(d, tok):
    def processed():
        _, _, text = d.get("/metrics")
        return sum(d.metric(text, "hikeshi_pipeline_records_total", 'input="%s"' % i) or 0
                   for i in ("gen", "web"))
    check(wait_for(lambda: processed() >= RECORDS + 1, timeout=90),
          "the daemon read the day and the hostile line (%d records)" % processed())
    hostile = []

    def hostile_incident():
        st, body = call(d, "GET", "/api/v1/incidents?limit=500", tok["viewer"])
        hostile[:] = [i for i in (body or {}).get("incidents", [])
                      if HOSTILE_IP in json.dumps(i.get("triage"))] if st == 200 else []
        return bool(hostile)
    check(wait_for(hostile_incident, timeout=30),
          "triage opened an incident on the hostile client %s" % HOSTILE_IP)
    st, al = call(d, "GET", "/api/v1/incidents/%d/alerts" % hostile[0]["id"], tok["viewer"]) \
        if hostile else (None, {})
    alerts = (al or {}).get("alerts", []) if st == 200 else []
    check(len(alerts) == 1, "the hostile incident has its one alert (%s)" % st)
    raw = ""
    if alerts:
        st, ev = call(d, "GET", "/api/v1/alerts/%d/events" % alerts[0]["id"], tok["viewer"])
        raws = [e.get("raw") for e in (ev or {}).get("events", [])] if st == 200 else []
        check(len(raws) == 1 and HOSTILE_UA in (raws[0] or ""),
              "the API gives the hostile record's raw text back as received")
        raw = raws[0] if raws else ""
    # Figures for the dashboard: a level declared for each category and a
    # risk sample by hand (10 + 10 x 50 x 80 x 2 = 80010).
    for cat, level in (("A", "Yellow"), ("B", "Orange"), ("C", "Green"), ("D", "Red")):
        st, _ = call(d, "POST", "/api/v1/declared-level", tok["admin"],
                     {"category": cat, "level": level, "why": "set by the browser test"})
        check(st in (200, 201), "declare %s %s (%s)" % (cat, level, st))
    st, _ = call(d, "POST", "/api/v1/risk-meter", tok["analyst"],
                 {"a": 10, "b": 50, "c": 20, "d": 2, "note": "browser test"})
    check(st in (200, 201), "a risk-meter sample (%s)" % st)

    os.makedirs(SHOTS, exist_ok=True)
    for f in os.listdir(SHOTS):
        if f.endswith(".png"):
            os.unlink(os.path.join(SHOTS, f))
    env = dict(os.environ,
               HIKESHI_URL="http://127.0.0.1:%d" % d.http,
               HIKESHI_USERS=json.dumps({role: {"name": n, "password": p}
                                         for role, (n, p) in USERS.items()}),
               HIKESHI_ADMIN_TOKEN=tok["admin"],
               HIKESHI_HOSTILE=json.dumps({"incident": hostile[0]["id"] if hostile else 0,
                                           "alert": alerts[0]["id"] if alerts else 0,
                                           "raw": raw}),
               HIKESHI_CHROMIUM=CHROMIUM,
               HIKESHI_SCREENSHOTS=SHOTS)
    t0 = time.time()
    r = subprocess.run(["node", os.path.join(HERE, "console.test.mjs")], env=env,
                       cwd=HERE, timeout=240)
    print("browser part: %.1f s" % (time.time() - t0))
    check(r.returncode == 0, "console.test.mjs: every browser check passed (exit %d)"
          % r.returncode)
    return r.returncode


def audit(d, rc):
    """The console's changes went through the API as the analyst: the audit
    chain verifies and names bob for the phase move, the task and the note."""
    log = os.path.join(d.data, "audit.log")
    r = subprocess.run([BIN, "audit", "verify", log], capture_output=True, text=True)
    check(r.returncode == 0, "hikeshi audit verify: exit 0 (%s)" % r.stdout.strip())
    ent = [json.loads(l) for l in open(log)] if os.path.exists(log) else []
    bob = USERS["analyst"][0]
    # A phase move is audited as incident.phase (other fields: incident.update).
    for action in ("incident.phase", "task.update", "note.add", "report.create"):
        check(any(e.get("action") == action and e.get("actor") == bob for e in ent),
              "the audit log has %s by %s" % (action, bob))
    viewer = USERS["viewer"][0]
    # A refusal is audited as api.denied (issue 17), never as a change.
    check(not any(e.get("actor") == viewer and e.get("action") not in ("user.login",
                                                                        "user.logout",
                                                                        "api.denied")
                  for e in ent), "the viewer's refused request left no change in the audit log")
    check(any(e.get("actor") == viewer and e.get("action") == "api.denied" and
              (e.get("details") or {}).get("status") == 403 for e in ent),
          "and is in it as api.denied (403)")


if __name__ == "__main__":
    main()
