"""End to end: a tabletop exercise against a running daemon (issue 22,
docs/exercise.md "Running an exercise").

The daemon has two syslog-tcp inputs: `real`, and `drill` marked
`exercise: true`.  A real SSH brute force arrives on `real` first and the
dashboard's counts (GET /api/v1/stats, GET /api/v1/rules' hits) are read.
Then `hikeshi exercise run scenarios/tiny.yaml --speed 10` plays the tiny
scenario into `drill` while a scripted team (the API calls of a lead, who
may declare Orange: an analyst's declaration waits for approval) works the
incident it opens: declares Orange for category A, notes that
www1 is isolated, writes the first report and completes first aid.
`exercise status` is read at the end of each run and while the third is
in progress.
The report must name what was met and what was not (tiny expects evidence
preserved; this team preserves none).  A second scenario written here has
expectations that cannot be met on time or at all (a rule these records
never fire, a rule due before its record is even sent, a notification
nobody makes): the scorer must say so.  A third run at 1x is stopped with
`exercise stop`; while it plays, GET /api/v1/exercise (what the console's
banner reads) must show it, its title and the inject its first stage
delivers, and nothing before the first run or after the stop.  Through
all of it the dashboard's counts must stay those of the real records only,
while the store holds the exercise's alerts and incidents, and the response
policy, which fires a webhook for the real brute force, must decide the
exercise's in dry run only and send nothing."""

import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SOURCE, Daemon, check, finish, free_port, syslog_stamp,  # noqa: E402
                     user_add, wait_for)
import smtpsink  # noqa: E402  (the team's mailbox)

MAILS = []  # (envelope recipients, data bytes) the sink received
MAIL_LOCK = threading.Lock()

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
  # the daemon's own first-aid target for tiny's box (A, Orange) is tighter
  # than the scenario's 30 minutes: the team cannot meet it, since it acts
  # only once the login, sent 30 s into the run, has made the incident
  # "intruded", well after the brute force opened it
  targets:
    - {{phase: first_aid, category: A, level: Orange, seconds: 5}}
  # messages of an exercise's incident never leave: the export directory
  # must stay empty although the team sends one
  messages:
    export_dir: {dir}/export
    secret_file: {dir}/webhook.key
    webhook_allow: [http://127.0.0.1:%d/team/]
    smtp: smtp://127.0.0.1:%d
    from: drill@example.org
respond:
  policy: {dir}/respond.yaml
inputs:
  - name: real
    type: syslog-tcp
    listen: 127.0.0.1:{port}
    trust: trusted
    peers: [127.0.0.1]
  - name: drill
    type: syslog-tcp
    listen: 127.0.0.1:%d
    trust: trusted
    peers: [127.0.0.1]
    exercise: true
"""

# Both inputs are trusted witnesses: without the exercise mark the brute
# force on either would make the webhook fire for real.
POLICY = """
dry_run: false
allowlist:
  - {net: 10.0.0.0/8, note: own network}
webhook:
  url: http://127.0.0.1:%d/hook
  secret_file: webhook.key
  timeout: 2s
  attempts: 1
rules:
  - name: ssh brute force from outside
    kind: correlation
    rule: [ssh_bruteforce]
    from: outside
    actions: [webhook]
"""


class Hook(http.server.BaseHTTPRequestHandler):
    """The webhook receiver: keeps every body, and the path, signature
    headers and body of each request (the team's chat for the injects)."""
    got = []
    reqs = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Hook.got.append(body.decode())
        Hook.reqs.append((self.path, self.headers.get("X-Hikeshi-Timestamp", ""),
                          self.headers.get("X-Hikeshi-Signature", ""), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

KEY = b"e2e-exercise-webhook-key-0123456789abcdef\n"
REAL_ATTACKER = "198.51.100.77"
TINY_ATTACKER = "203.0.113.66"  # scenarios/tiny.yaml's attacker_ip
FAIL_ATTACKER = "203.0.113.99"

# A scenario of the test's own: tiny's records against other addresses, with
# expectations that cannot all be met.
FAIL_SCENARIO = """scenario: e2e-fail
title: SSH brute force with expectations a team cannot meet
vars:
  victim_host: www2
  attacker_ip: %s
stages:
  - name: guessing
    at: 0s
    kill_chain: exploitation
    records:
      - at: 0s
        format: syslog
        repeat: 12
        every: 2s
        text: "<38>${ts} ${victim_host} sshd[${n}411]: Failed password for root from ${attacker_ip} port 5${n}022 ssh2"
    messages:
      - at: 1s
        from: the web server's owner
        channel: phone
        text: "Logins on ${victim_host} are slow since a minute ago, is someone trying passwords?"
  - name: foothold
    at: 30s
    records:
      - at: 0s
        format: syslog
        text: "<38>${ts} ${victim_host} sshd[9411]: Accepted password for root from ${attacker_ip} port 51999 ssh2"
    messages:
      - at: 5s
        from: the data protection authority
        channel: mail
        text: "We hear of a break-in at ${victim_host}; has personal data been exposed?"
expect:
  detections:
    - rule: ssh_bruteforce
      within: 5m
    - rule: ssh_bruteforce_success
      within: 10s
    - rule: web_sql_injection
      within: 5m
  decisions:
    - notify: regulator
      within: 1h
""" % FAIL_ATTACKER


class Api:
    def __init__(self, d, token):
        self.d, self.token = d, token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.d.http, path), data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw.strip() else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def incident_of(self, address):
        st, got = self.call("GET", "/api/v1/incidents")
        for inc in (got or {}).get("incidents", []) if st == 200 else []:
            full = self.call("GET", "/api/v1/incidents/%d" % inc["id"])[1] or {}
            if any(e.get("value") == address for e in full.get("entities", [])):
                return full
        return None


def exercise(d, *args, timeout=120):
    return subprocess.run([BIN, "exercise", "-c", d.conf] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def status_json(d):
    r = exercise(d, "status", "--json")
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def dashboard(api):
    st, stats = api.call("GET", "/api/v1/stats?hours=1")
    st2, rules = api.call("GET", "/api/v1/rules")
    hits = {}
    for ru in (rules or {}).get("rules", []) if st2 == 200 else []:
        if ru.get("hits"):
            hits[ru.get("id")] = ru.get("hits")
    if st != 200:
        return None
    ents = sorted(e.get("value") for e in stats.get("top_entities", []))
    return {"funnel": stats.get("funnel"), "open": stats.get("open_incidents", {}).get("total"),
            "rate": sum(b.get("alerts", 0) for b in stats.get("alert_rate", [])),
            "entities": ents, "hits": hits}


def patch(api, iid, body):
    """PATCH with the version just read; again when triage changed the
    incident in between (409)."""
    for _ in range(5):
        inc = api.call("GET", "/api/v1/incidents/%d" % iid)[1] or {}
        st, got = api.call("PATCH", "/api/v1/incidents/%d" % iid,
                           dict(body, version=inc.get("version")))
        if st != 409:
            break
    return st, got


def team(api, address, host):
    """The scripted team: works the exercise's incident through the API."""
    # The team acts on the phone call, after the login that works: the
    # incident is then typed "intruded" (an analyst's edit fixes its fields).
    if not check(wait_for(lambda: "intruded" in ((api.incident_of(address) or {}).get("type")
                                                 or ""), timeout=60),
                 "an incident typed intruded opens for the exercise's attacker %s" % address):
        return
    inc = api.incident_of(address)
    iid = inc["id"]
    st, got = patch(api, iid, {"level": "Orange", "category": "A", "phase": "first_aid",
                               "reason": "exercise: brute force then a login"})
    check(st == 200, "team: incident %d declared Orange, category A, first aid (%s %s)"
          % (iid, st, got if st != 200 else ""))
    st, _ = api.call("POST", "/api/v1/incidents/%d/notes" % iid,
                     {"text": "%s isolated from the network by the on-call admin" % host})
    check(st == 201, "team: note that %s is isolated (%s)" % (host, st))
    st, got = api.call("POST", "/api/v1/incidents/%d/reports" % iid, {"kind": "first"})
    check(st == 201, "team: first report written (%s %s)" % (st, got if st != 201 else ""))
    # a statement to the press, which tiny says to withhold: a wrong party
    st, got = api.call("POST", "/api/v1/incidents/%d/messages" % iid,
                       {"party": "press", "channel": "export", "recipient": "press-desk"})
    mid = ((got or {}).get("message") or {}).get("id")
    check(st == 201 and mid, "team: a message to the press drafted (%s %s)" % (st, got))
    st, got = api.call("POST", "/api/v1/incidents/%d/messages/%s/send" % (iid, mid))
    check(st == 200, "team: ... and sent (%s %s)" % (st, got))
    team.press = (iid, mid)
    st, got = api.call("GET", "/api/v1/incidents/%d/tasks" % iid)
    for t in (got or {}).get("tasks", []):
        if t.get("phase") == "first_aid" and t.get("required") and not t.get("done"):
            api.call("PATCH", "/api/v1/incidents/%d/tasks/%d" % (iid, t["id"]), {"done": True})
    st, got = patch(api, iid, {"phase": "emergency"})
    check(st == 200, "team: first aid completed, phase emergency (%s %s)"
          % (st, got if st != 200 else ""))


def item(score, what):
    for it in score.get("items", []):
        if it.get("what") == what:
            return it
    return {}


def main():
    drill_port = free_port()
    hook = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    Hook.port = hook.server_address[1]
    smtp = smtpsink.start(MAILS, MAIL_LOCK)
    d = Daemon(CONFIG % (hook.server_address[1], smtp.server_address[1], drill_port))
    with open(os.path.join(d.dir, "respond.yaml"), "w") as f:
        f.write(POLICY % hook.server_address[1])
    with open(os.path.join(d.dir, "webhook.key"), "w") as f:
        f.write(KEY.decode())
    os.chmod(os.path.join(d.dir, "webhook.key"), 0o600)
    # writable by the daemon after it drops privileges: an empty directory
    # then says the message was kept, not that it could not be written
    os.makedirs(os.path.join(d.dir, "export"))
    os.chmod(os.path.join(d.dir, "export"), 0o777)
    d.start()
    try:
        run_all(d, drill_port)
    finally:
        d.stop()
    finish()


def run_all(d, drill_port):
    token = user_add(d, "alice", "lead")
    api = Api(d, token)

    # help and check
    r = exercise(d, "--help")
    check(r.returncode == 0 and "run SCENARIO" in r.stdout, "exercise --help names run")
    r = exercise(d, "check", os.path.join(SOURCE, "scenarios", "tiny.yaml"))
    check(r.returncode == 0 and "scenario tiny" in r.stdout, "exercise check tiny.yaml: %s"
          % (r.stdout + r.stderr).strip())
    r = exercise(d, "status")
    check(r.returncode == 0 and "no exercise" in r.stdout, "status before any run: none")
    st, got = api.call("GET", "/api/v1/exercise")
    check(st == 200 and got == {"run": None, "messages": []},
          "GET /api/v1/exercise before any run: no run (%s %s)" % (st, got))

    # the real records: a brute force then a login, on the real input
    lines = ["<38>%s realsrv sshd[%d]: Failed password for root from %s port %d ssh2"
             % (syslog_stamp(), 30000 + i, REAL_ATTACKER, 40000 + i) for i in range(12)]
    lines.append("<38>%s realsrv sshd[30100]: Accepted password for root from %s port 41000 ssh2"
                 % (syslog_stamp(), REAL_ATTACKER))
    with socket.create_connection(("127.0.0.1", d.port)) as s:
        s.sendall(("\n".join(lines) + "\n").encode())
    check(wait_for(lambda: api.incident_of(REAL_ATTACKER) is not None, timeout=30),
          "the real brute force opens a real incident")
    # the counts settle once the 13 records and their alerts are stored
    check(wait_for(lambda: (dashboard(api) or {}).get("funnel", {}).get("records") == 13,
                   timeout=30), "dashboard: 13 real records")
    before = dashboard(api)
    check(before and before["funnel"]["alerts"] > 0 and before["open"] >= 1 and
          REAL_ATTACKER in before["entities"],
          "dashboard before the exercise: real alerts, incident and entity (%s)" % before)

    # run 1: tiny, accelerated, with a team
    tiny = os.path.join(SOURCE, "scenarios", "tiny.yaml")
    # the injects also go to the team's chat, a webhook under webhook_allow
    team_url = "http://127.0.0.1:%d/team/exercise" % Hook.port
    r = exercise(d, "run", tiny, "--deliver", "http://127.0.0.1:%d/elsewhere" % Hook.port)
    check(r.returncode == 2 and "webhook_allow" in r.stderr,
          "run --deliver to a URL outside webhook_allow: refused, exit 2 (%s)" % r.stderr.strip())
    r = exercise(d, "run", tiny, "--deliver", "mailto:team@example.org, boss@example.org")
    check(r.returncode == 2 and "one mail address" in r.stderr,
          "run --deliver mailto: two addresses: refused, exit 2 (%s)" % r.stderr.strip())
    proc = subprocess.Popen([BIN, "exercise", "-c", d.conf, "run", tiny, "--speed", "10",
                             "--deliver", team_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    team(api, TINY_ATTACKER, "www1")
    out, err = proc.communicate(timeout=120)
    check(proc.returncode == 0, "exercise run exits 0 (%s)" % err.strip())
    check("stage guessing" in out and "stage foothold" in out and
          "phone from Aiko Tanaka" in out and "done;" in out,
          "run prints the stages, the phone call and its end:\n" + out)
    check("(delivered by webhook to %s)" % team_url in out,
          "run says the phone call went to the team's chat")
    injects = [(ts, sig, body) for path, ts, sig, body in Hook.reqs if path == "/team/exercise"]
    doc = json.loads(injects[0][2]) if len(injects) == 1 else {}
    check(doc.get("event") == "exercise.inject" and doc.get("exercise") is True and
          doc.get("run") == 1 and doc.get("scenario") == "tiny" and doc.get("stage") == "foothold"
          and doc.get("from") == "Aiko Tanaka, owner of www1" and doc.get("channel") == "phone"
          and "root on www1" in doc.get("text", "") and doc.get("scenario_time_s") == 40,
          "the team's chat got tiny's one inject, marked exercise, with who, channel, stage, "
          "time and text (%d requests: %s)" % (len(injects), doc))
    if injects:
        ts, sig, body = injects[0]
        want = "sha256=" + hmac.new(KEY, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        check(hmac.compare_digest(sig, want), "the inject is signed with incident.messages' key")
    st = status_json(d)
    check(st and st.get("state") == "done" and st.get("sent") == 13,
          "status at the end: done, 13 records sent (%s)" % st)

    # the store holds the exercise's alerts and incident, marked
    con = d.db()
    marked = {k: n for k, n in con.execute(
        "SELECT kind, count(*) FROM exercise_marks GROUP BY kind")}
    ex_inc = con.execute("SELECT count(*) FROM incidents WHERE id IN"
                         " (SELECT id FROM exercise_marks WHERE kind = 'incident')").fetchone()[0]
    con.close()
    check(marked.get("event") == 13 and marked.get("alert", 0) >= 2 and ex_inc >= 1,
          "exercise_marks: its 13 events, its alerts and its incident (%s)" % marked)

    r = exercise(d, "report", "--format", "json")
    score = json.loads(r.stdout) if r.returncode == 0 else {}
    check(r.returncode == 0, "report --format json (%s)" % r.stderr.strip())
    for what in ("rule ssh_bruteforce", "rule ssh_bruteforce_success",
                 "incident intruded, no damage yet",
                 "declare Orange for category A", "isolate www1", "first report"):
        check(item(score, what).get("status") == "ok", "tiny: %s met on time (%s)"
              % (what, item(score, what)))
    check(item(score, "preserve evidence").get("status") == "missed",
          "tiny: preserve evidence missed: the team preserved none (%s)"
          % item(score, "preserve evidence"))
    check(score.get("first_aid") == "ok", "tiny: first aid completed within its target (%s)"
          % score.get("first_aid"))
    check(score.get("first_aid_cfg") == "late" and score.get("first_aid_cfg_target_s") == 5
          and score.get("targets_box") == "category A, Orange",
          "tiny: first aid late for the daemon's incident.targets (A, Orange: 5 s) (%s %s %s)"
          % (score.get("first_aid_cfg"), score.get("first_aid_cfg_target_s"),
             score.get("targets_box")))
    press = item(score, "withhold from press")
    check(press.get("status") == "wrong_party" and press.get("at_s", -1) >= 0 and
          score.get("wrong_party") == 1 and score.get("messages") == 1,
          "tiny: the message to the press is scored as sent to the wrong party (%s, %s wrong, "
          "%s messages)" % (press, score.get("wrong_party"), score.get("messages")))
    check(score.get("first_report") == "ok" and
          0 <= score.get("milestones", {}).get("first_report_s", -1) <= 30 * 60,
          "tiny: the first report within the first-aid target of the first incident (%s, %s)"
          % (score.get("first_report"), score.get("milestones")))
    # detections 3, decisions 5, first aid against each target, the first report
    check(score.get("max_points") == 2 * (3 + 5 + 1 + 1 + 1) and score.get("points") ==
          score.get("max_points") - 2 - 1 - 2,
          "tiny: %s of %s points (all but evidence, first aid for the daemon's target, and the "
          "press)" % (score.get("points"), score.get("max_points")))
    # the message went through its life inside hikeshi, and never out
    iid, mid = getattr(team, "press", (0, 0))
    def msg():
        return (api.call("GET", "/api/v1/incidents/%d/messages/%s" % (iid, mid))[1] or {}).get(
            "message") or {}
    wait_for(lambda: msg().get("state") in ("delivered", "failed"), timeout=30)
    check(msg().get("state") == "delivered" and msg().get("party") == "press",
          "the exercise's message to the press is recorded delivered (%s)" % msg().get("state"))
    exported = os.listdir(os.path.join(d.dir, "export"))
    check(exported == [], "... but nothing was exported: it never left hikeshi (%s)" % exported)
    check("kept in hikeshi, not sent" in d.read_log(),
          "the daemon logs that it kept the exercise's message")
    r = exercise(d, "report")
    check(r.returncode == 0 and re.search(r"\| preserve evidence \| never \| 1h00m \| MISSED \|",
                                          r.stdout) and
          re.search(r"\| declare Orange for category A \| \S+ \| 30m00s \| on time \|", r.stdout)
          and 'Decision "preserve evidence" was never taken' in r.stdout
          and re.search(r"\| withhold from press \| \S+ \| during the run \| WRONG PARTY \|",
                        r.stdout) and "a message went to that party at" in r.stdout
          and "0m40s delivery: delivered by webhook to http://127.0.0.1:" in r.stdout
          and "30m00s from the first incident: met; the daemon's 0m05s (category A, Orange): "
          "MISSED (late)" in r.stdout and "not the daemon's own of 0m05s" in r.stdout,
          "Markdown report: evidence MISSED, the declaration on time, first aid against both "
          "targets, what to review")
    htmlp = os.path.join(d.dir, "aar.html")
    r = exercise(d, "report", "--format", "html", "-o", htmlp)
    html = open(htmlp).read() if r.returncode == 0 else ""
    check("<svg class=\"timeline\"" in html and "MISSED" in html,
          "HTML report with a timeline chart written to -o")

    # run 2: the test's own scenario, where the scorer must say no
    failp = os.path.join(d.dir, "fail.yaml")
    with open(failp, "w") as f:
        f.write(FAIL_SCENARIO)
    r = exercise(d, "run", failp, "--speed", "10", "--deliver", "mailto:csirt@example.org")
    check(r.returncode == 0 and "done;" in r.stdout and "warning" not in r.stderr,
          "run 2 (e2e-fail) plays to its end, no warning for a scenario not played before (%s)"
          % r.stderr.strip())
    # its two injects went to the team's mailbox through incident.messages.smtp
    with MAIL_LOCK:
        mails = [(rc, data.decode(errors="replace")) for rc, data in MAILS
                 if rc == ["csirt@example.org"]]
    subjects = sorted(re.search(r"^Subject: (.*?)\r?$", m, re.M).group(1) for _, m in mails)
    check(subjects == ["[EXERCISE e2e-fail] mail from the data protection authority",
                       "[EXERCISE e2e-fail] phone from the web server's owner"] and
          all("EXERCISE - NOT A REAL INCIDENT" in m and "From: <drill@example.org>" in m
              for _, m in mails) and
          any("has personal data been exposed?" in m and "stage foothold, at 0m35s" in m
              for _, m in mails),
          "run 2's injects mailed to the team, marked EXERCISE (%s)" % subjects)
    check(r.stdout.count("(delivered by mail to csirt@example.org)") == 2,
          "run 2 says both were delivered by mail")
    r = exercise(d, "report", "--format", "json")
    score = json.loads(r.stdout) if r.returncode == 0 else {}
    check(score.get("run") == 2, "report scores the latest run, 2 (%s)" % score.get("run"))
    check(item(score, "rule ssh_bruteforce").get("status") == "ok",
          "e2e-fail: ssh_bruteforce met (%s)" % item(score, "rule ssh_bruteforce"))
    late = item(score, "rule ssh_bruteforce_success")
    check(late.get("status") == "late" and late.get("at_s", 0) >= 30,
          "e2e-fail: ssh_bruteforce_success LATE: its record is sent at 30s, due 10s (%s)" % late)
    check(item(score, "rule web_sql_injection").get("status") == "missed",
          "e2e-fail: web_sql_injection MISSED (%s)" % item(score, "rule web_sql_injection"))
    check(item(score, "notify regulator").get("status") == "missed",
          "e2e-fail: notify regulator MISSED (%s)" % item(score, "notify regulator"))
    check(score.get("first_aid") == "missed", "e2e-fail: first aid never done: missed")
    r = exercise(d, "report", "--run", "1", "--format", "json")
    s1 = json.loads(r.stdout) if r.returncode == 0 else {}
    check(item(s1, "declare Orange for category A").get("status") == "ok",
          "report --run 1 still scores run 1")

    # run 3: stopped from another terminal
    proc = subprocess.Popen([BIN, "exercise", "-c", d.conf, "run", failp, "--speed", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # 42 s long at 1x: it is still running when status is asked (the
    # shorter runs above may be over before a status command starts)
    check(wait_for(lambda: (status_json(d) or {}).get("run") == 3, timeout=30),
          "run 3 has started")
    st = status_json(d)
    check(st and st.get("state") == "running" and st.get("scenario") == "e2e-fail" and
          st.get("speed") == 1, "status --json while running: e2e-fail, running, 1x (%s)" % st)
    r = exercise(d, "status")
    check(r.returncode == 0 and re.search(r"run 3: scenario e2e-fail .*\n\s+state running",
                                          r.stdout),
          "status (text) while running says running: %s" % r.stdout.strip())
    # the console's banner reads the run in progress and its injects: the
    # owner's call is delivered 1 s into the run
    def active():
        st, got = api.call("GET", "/api/v1/exercise")
        return got if st == 200 and (got or {}).get("messages") else None
    check(wait_for(lambda: active() is not None, timeout=30),
          "GET /api/v1/exercise shows run 3's first inject")
    got = active() or {}
    run = got.get("run") or {}
    msg = (got.get("messages") or [{}])[0]
    check(run.get("id") == 3 and run.get("scenario") == "e2e-fail" and
          run.get("title") == "SSH brute force with expectations a team cannot meet" and
          run.get("speed") == 1 and re.match(r"\d{4}-\d\d-\d\dT", run.get("started") or ""),
          "GET /api/v1/exercise while running: run 3, e2e-fail, its title, 1x (%s)" % run)
    check(msg.get("text") == "Logins on www2 are slow since a minute ago, is someone trying "
          "passwords?" and msg.get("from") == "the web server's owner" and
          msg.get("channel") == "phone" and msg.get("stage") == "guessing",
          "GET /api/v1/exercise: the inject, expanded, with who, channel, stage (%s)" % msg)
    st, _ = Api(d, "").call("GET", "/api/v1/exercise")
    check(st == 401, "GET /api/v1/exercise without a token: 401 (%s)" % st)
    r = exercise(d, "stop")
    check(r.returncode == 0 and "1 run asked to stop" in r.stdout, "exercise stop: %s"
          % r.stdout.strip())
    out, err = proc.communicate(timeout=60)
    # each run is triaged apart (e2e_exercise_rerun): nothing to warn of
    check("warning" not in err,
          "run 3, within triage's group window of run 2, plays without a warning (%s)"
          % err.strip())
    st, got = api.call("GET", "/api/v1/exercise")
    check(st == 200 and got == {"run": None, "messages": []},
          "GET /api/v1/exercise after the stop: no run (%s %s)" % (st, got))
    st = status_json(d)
    check(proc.returncode == 0 and "stopped;" in out and st.get("state") == "stopped" and
          st.get("sent", 99) < 13, "run 3 ends stopped before its last record (%s)" % st)

    # the dashboard: the exercise left its counts alone
    # every record the three runs sent is stored (and marked) before counting
    total = 26 + (st or {}).get("sent", 0)

    def marked_events():
        con = d.db()
        n = con.execute("SELECT count(*) FROM exercise_marks WHERE kind = 'event'").fetchone()[0]
        con.close()
        return n
    check(wait_for(lambda: marked_events() == total, timeout=30),
          "all %d exercise records stored and marked (%d)" % (total, marked_events()))
    after = dashboard(api)
    check(after and after["funnel"] == before["funnel"],
          "dashboard funnel unchanged by the exercises (%s, was %s)"
          % (after and after["funnel"], before["funnel"]))
    check(after and after["open"] == before["open"] and after["rate"] == before["rate"],
          "open incidents and alert rate unchanged (%s, was %s)" % (after, before))
    check(after and TINY_ATTACKER not in after["entities"] and
          FAIL_ATTACKER not in after["entities"], "no exercise address among the top entities")
    check(after and after["hits"] == before["hits"], "rule hits unchanged (%s, was %s)"
          % (after and after["hits"], before["hits"]))
    con = d.db()
    n_alerts = con.execute("SELECT count(*) FROM alerts").fetchone()[0]
    n_inc = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
    con.close()
    check(n_alerts > before["funnel"]["alerts"] and n_inc >= before["funnel"]["incidents"] + 2,
          "while the store holds the exercise's alerts (%d) and incidents (%d)" % (n_alerts, n_inc))

    # responses: the real brute force made the webhook fire; the exercise's
    # were decided in dry run only, and nothing was sent for them
    check(wait_for(lambda: any(REAL_ATTACKER in b for b in Hook.got), timeout=30),
          "the real brute force's response fired the webhook")
    con = d.db()
    rows = con.execute("SELECT address, state, reason FROM responses ORDER BY id").fetchall()
    con.close()
    ex = [r for r in rows if r["address"] in (TINY_ATTACKER, FAIL_ATTACKER)]
    real = [r for r in rows if r["address"] == REAL_ATTACKER]
    check(real and all(r["state"] == "done" for r in real),
          "real responses acted (%s)" % [tuple(r) for r in real])
    check(ex and all(r["state"] == "dry_run" and "(exercise: dry run)" in r["reason"]
                     for r in ex),
          "every exercise response is a dry run saying so (%s)" % [tuple(r) for r in ex])
    check(not any(a in b for b in Hook.got for a in (TINY_ATTACKER, FAIL_ATTACKER)),
          "no webhook was sent for an exercise address (%d sent)" % len(Hook.got))

    # usage errors
    r = exercise(d, "run", tiny, "--speed", "0")
    check(r.returncode == 2 and "--speed" in r.stderr, "run --speed 0 refused, exit 2")
    r = exercise(d, "run", tiny, "--clock", "moon")
    check(r.returncode == 2 and "--clock" in r.stderr, "run --clock moon refused, exit 2")
    r = exercise(d, "frobnicate")
    check(r.returncode == 2, "unknown command: exit 2")


if __name__ == "__main__":
    main()
