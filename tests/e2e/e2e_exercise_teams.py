"""End to end: every shipped scenario played against the daemon with a
scripted team, and scored as that team deserves (issue 22, docs/exercise.md
"Scoring").

Three daemons run side by side, one per team, each playing all of
scenarios/*.yaml in turn with `hikeshi exercise run --speed N` into its
exercise input.  The team is a script of API calls made when the scenario's
first incident opens (scenario time, read from the run's speed):

  perfect   declares every expected level (the organisation's declaration,
            POST /api/v1/declared-level), notes each host isolated,
            registers an evidence item, writes every expected report,
            records each expected notification, tells no withheld party,
            and completes first aid (phase emergency) at once.  Once every
            detection the scenario expects has come, the run is stopped:
            the score must be full marks.
  late      does the same, but leaves first aid only after 1.2 times the
            first-aid target has passed since the first incident: first
            aid is late, everything else on time, and the report says the
            first-aid target was missed.
  silent    does everything but declare a level: each expected declaration
            is missed and the report names it under "What to review".

The speeds keep the first-aid target at 9 s of wall time or more for the
perfect team, so that the few API calls it makes fit with a wide margin on
a loaded machine; the runs end when their verdict is reached rather than
at the scenario's last inject (insider-theft's last call comes 11 hours
in)."""

import glob
import hashlib
import json
import os
import pwd
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SOURCE, Daemon, check, finish, free_port, user_add, wait_for  # noqa: E402

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
evidence:
  key: {dir}/keys/evidence.key
inputs:
  - name: drill
    type: syslog-tcp
    listen: 127.0.0.1:{port}
    trust: trusted
    peers: [127.0.0.1]
    exercise: true
"""

# Scenario seconds per wall second: the perfect team's 30-minute first-aid
# target lasts 9 s, and every decision has seconds to spare after the
# first incident.
SPEED = {"perfect": 200, "late": 200, "silent": 200}
LOCK = threading.Lock()


def dur(v):
    m = re.fullmatch(r"(\d+)\s*([smhd]?)", str(v).strip())
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def expand(text, sc):
    return re.sub(r"\$\{(\w+)\}", lambda m: str((sc.get("vars") or {}).get(m.group(1), m.group(0))),
                  str(text))


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
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw.strip() else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def incident_ids(self):
        st, got = self.call("GET", "/api/v1/incidents?sort=newest&limit=500")
        return sorted(i["id"] for i in (got or {}).get("incidents", [])) if st == 200 else []

    def patch(self, iid, body):
        """PATCH with the version just read; again when triage changed the
        incident in between (409)."""
        st, got = 0, None
        for _ in range(8):
            inc = self.call("GET", "/api/v1/incidents/%d" % iid)[1] or {}
            st, got = self.call("PATCH", "/api/v1/incidents/%d" % iid,
                                dict(body, version=inc.get("version")))
            if st != 409:
                break
        return st, got


def exercise(d, *args):
    return subprocess.run([BIN, "exercise", "-c", d.conf] + list(args), capture_output=True,
                          text=True, timeout=300)


def score(d):
    r = exercise(d, "report", "--format", "json")
    try:
        return json.loads(r.stdout) if r.returncode == 0 else {}
    except ValueError:
        return {}


class Team:
    """One team, its daemon, and what went wrong (a list of strings)."""

    def __init__(self, kind, d, api):
        self.kind, self.d, self.api = kind, d, api
        self.speed = SPEED[kind]
        self.results = {}  # scenario -> (score json, markdown report)
        self.problems = []

    def problem(self, what):
        self.problems.append(what)

    def scen_now(self, t0):
        return (time.time() - t0) * self.speed

    def act(self, name, sc, iid, t0, inc_scen):
        """The decisions of the scenario, taken on incident iid."""
        api = self.api
        for dec in (sc.get("expect") or {}).get("decisions") or []:
            if "declare" in dec:
                if self.kind == "silent":
                    continue
                st, got = api.call("POST", "/api/v1/declared-level",
                                   {"category": dec["category"],
                                    "level": str(dec["declare"]).capitalize(),
                                    "why": "exercise %s: %s" % (name, self.kind)})
                if st not in (200, 201):
                    self.problem("%s: declare %s: %s %s" % (name, dec, st, got))
            elif "isolate" in dec:
                host = expand(dec["isolate"], sc)
                st, got = api.call("POST", "/api/v1/incidents/%d/notes" % iid,
                                   {"text": "%s isolated from the network (%s team)"
                                    % (host, self.kind)})
                if st != 201:
                    self.problem("%s: isolate note: %s %s" % (name, st, got))
            elif "preserve_evidence" in dec:
                blob = ("%s-%s-%d" % (name, self.kind, iid)).encode()
                st, got = api.call("POST", "/api/v1/evidence", {
                    "kind": "memory-dump", "url": "s3://drill/%s/%d/mem.lime" % (name, iid),
                    "sha256": hashlib.sha256(blob).hexdigest(),
                    "blake2b": hashlib.blake2b(blob).hexdigest(), "size": len(blob),
                    "acquisition": {"host": "drill", "tool": "LiME"}, "incidents": [iid]})
                if st != 201:
                    self.problem("%s: evidence: %s %s" % (name, st, got))
            elif "report" in dec:
                st, got = api.call("POST", "/api/v1/incidents/%d/reports" % iid,
                                   {"kind": dec["report"]})
                if st != 201:
                    self.problem("%s: report %s: %s %s" % (name, dec["report"], st, got))
            elif "notify" in dec:
                party = expand(dec["notify"], sc)
                st, got = api.call("POST", "/api/v1/incidents/%d/communications" % iid,
                                   {"party": party, "channel": "mail", "direction": "out",
                                    "summary": "%s informed by the %s team" % (party, self.kind)})
                if st != 201:
                    self.problem("%s: notify %s: %s %s" % (name, party, st, got))
        # first aid: at once, or (late team) after 1.2 times its target
        target = dur((sc.get("targets") or {}).get("first_aid", "30m"))
        st, got = api.patch(iid, {"phase": "first_aid", "reason": "exercise %s" % name})
        if st != 200:
            self.problem("%s: phase first_aid: %s %s" % (name, st, got))
        # the playbook's required first-aid tasks; one that needs evidence
        # is done by registering it (docs/evidence.md)
        st, got = api.call("GET", "/api/v1/incidents/%d/tasks" % iid)
        for t in (got or {}).get("tasks", []):
            if t.get("phase") != "first_aid" or not t.get("required") or t.get("done"):
                continue
            st, got = api.call("PATCH", "/api/v1/incidents/%d/tasks/%d" % (iid, t["id"]),
                               {"done": True})
            if st == 409:
                blob = ("%s-%s-%d-%d" % (name, self.kind, iid, t["id"])).encode()
                st, got = api.call("POST", "/api/v1/incidents/%d/tasks/%d/evidence"
                                   % (iid, t["id"]), {
                                       "url": "s3://drill/%s/%d/task-%d" % (name, iid, t["id"]),
                                       "sha256": hashlib.sha256(blob).hexdigest(),
                                       "blake2b": hashlib.blake2b(blob).hexdigest(),
                                       "size": len(blob), "acquisition": {"host": "drill"}})
            if st not in (200, 201):
                self.problem("%s: task %r: %s %s" % (name, t.get("title"), st, got))
        if self.kind == "late":
            while self.scen_now(t0) < inc_scen + 1.2 * target:
                time.sleep(0.1)
        st, got = api.patch(iid, {"phase": "emergency", "reason": "exercise %s" % name})
        if st != 200:
            self.problem("%s: phase emergency: %s %s" % (name, st, got))

    def play(self, path):
        sc = yaml.safe_load(open(path))
        name = sc["scenario"]
        before = set(self.api.incident_ids())
        t0 = time.time()
        # on the scenario's clock: beacons keep their minute apart
        proc = subprocess.Popen([BIN, "exercise", "-c", self.d.conf, "run", path, "--speed",
                                 str(self.speed), "--clock", "scenario"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # the first incident the exercise opens
        iid, inc_scen = None, None
        while iid is None and proc.poll() is None:
            new = [i for i in self.api.incident_ids() if i not in before]
            if new:
                iid, inc_scen = new[0], self.scen_now(t0)
            else:
                time.sleep(0.05)
        if iid is None:
            self.problem("%s: no incident opened during the run" % name)
        else:
            self.act(name, sc, iid, t0, inc_scen)
        # the perfect team waits for every expected detection (the run is
        # stopped then, or ends); the others stop once they are done
        if self.kind == "perfect":
            def detected():
                s = score(self.d)
                return s.get("items") and all(it["status"] == "ok" for it in s["items"]
                                                if it["kind"] == "detection")
            last = max([dur(x.get("within", 0)) for x in
                        (sc.get("expect") or {}).get("detections") or []] + [0])
            while proc.poll() is None and not detected() and \
                    self.scen_now(t0) < last + 600:
                time.sleep(0.5)
        if proc.poll() is None:
            exercise(self.d, "stop")
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        if proc.returncode != 0:
            self.problem("%s: exercise run exited %s: %s" % (name, proc.returncode, err.strip()))
        s = score(self.d)
        md = exercise(self.d, "report").stdout
        self.results[name] = (s, md)

    def run_all(self, files):
        for path in files:
            try:
                self.play(path)
            except Exception as e:  # noqa: BLE001 - reported as a failed check
                self.problem("%s: %r" % (os.path.basename(path), e))


def daemon_user():
    try:
        return pwd.getpwnam("hikeshi")
    except KeyError:
        return pwd.getpwnam("nobody")


def start_daemon():
    d = Daemon(CONFIG)
    keys = os.path.join(d.dir, "keys")
    os.mkdir(keys, 0o755)
    key = os.path.join(keys, "evidence.key")
    r = subprocess.run([BIN, "evidence", "keygen", "-c", d.conf, "--key", key],
                       capture_output=True, text=True)
    check(r.returncode == 0, "evidence keygen (%s)" % (r.stdout + r.stderr).strip()[:200])
    if os.geteuid() == 0:
        # the daemon drops to its user; each seal rewrites the key there
        who = daemon_user()
        for p in (keys, key, key + ".pub"):
            os.chown(p, who.pw_uid, who.pw_gid)
    d.start()
    return d


def items(s, kind=None, status=None):
    return [it for it in s.get("items", []) if (kind is None or it["kind"] == kind) and
            (status is None or it["status"] == status)]


def main():
    files = sorted(glob.glob(os.path.join(SOURCE, "scenarios", "*.yaml")))
    check(len(files) == 8, "eight shipped scenarios (%d)" % len(files))
    teams = []
    daemons = []
    try:
        for kind in ("perfect", "late", "silent"):
            d = start_daemon()
            daemons.append(d)
            teams.append(Team(kind, d, Api(d, user_add(d, "lead-" + kind, "lead"))))
        threads = [threading.Thread(target=t.run_all, args=(files,)) for t in teams]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        for d in daemons:
            d.stop()
    for t in teams:
        check(not t.problems, "%s team: every API call and run went through (%s)"
              % (t.kind, "; ".join(t.problems)))
    perfect, late, silent = teams
    for path in files:
        name = yaml.safe_load(open(path))["scenario"]
        sc = yaml.safe_load(open(path))
        ndecl = sum(1 for x in sc["expect"].get("decisions") or [] if "declare" in x)

        s, md = perfect.results.get(name, ({}, ""))
        check(s and s.get("points") == s.get("max_points") and s.get("first_aid") == "ok"
              and s.get("first_report") == "ok" and not items(s, status="missed")
              and "Nothing missed or late" in md,
              "%s, perfect team: full marks, %s of %s (not ok: %s)"
              % (name, s.get("points"), s.get("max_points"),
                 [(it["what"], it["status"]) for it in s.get("items", [])
                  if it["status"] != "ok"]))

        s, md = late.results.get(name, ({}, ""))
        fa = s.get("milestones", {})
        check(s.get("first_aid") == "late" and
              fa.get("first_aid_done_s", -1) - fa.get("first_incident_s", 0) >
              s.get("first_aid_target_s", 0) and
              not items(s, "decision", "missed") and not items(s, "decision", "late") and
              "MISSED (late)" in md and "the first-aid target was missed" in md,
              "%s, late team: first aid late (%s s after the first incident, target %s s), "
              "decisions on time, and the report says so"
              % (name, fa.get("first_aid_done_s", -1) - fa.get("first_incident_s", 0),
                 s.get("first_aid_target_s")))

        s, md = silent.results.get(name, ({}, ""))
        missed = [it["what"] for it in items(s, "decision", "missed")]
        flagged = [w for w in missed if w.startswith("declare ")]
        check(ndecl >= 1 and len(flagged) == ndecl and len(missed) == ndecl and
              all('Decision "%s" was never taken' % w in md for w in flagged) and
              s.get("first_aid") == "ok",
              "%s, team that never declares: its %d declaration(s) flagged missed in the "
              "score and under What to review, nothing else missed (%s)"
              % (name, ndecl, missed))
    finish()


if __name__ == "__main__":
    main()
