"""End to end: a scenario rehearsed twice within triage's group window
(issue 22, docs/exercise.md "Running an exercise").

Triage groups one attacker's alerts into one incident for `group_window`
(an hour).  An exercise run's alerts are triaged in a realm of their own
(the run): `exercise run scenarios/tiny.yaml` played twice back to back,
accelerated, into the daemon's exercise input must open one incident per
run, and a scripted team working each run's incident must score the same
for both (the incident detected, first aid and the first report on time).
Then the same attacker's brute force arrives on the real input: it must
open a real incident of its own, not join either exercise incident, and
neither exercise incident may grow.  Anomaly detection learns the runs
in baselines of their own: after both runs the real baselines hold
nothing; after the real records they do."""

import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SOURCE, Daemon, check, finish, free_port, syslog_stamp,  # noqa: E402
                     user_add, wait_for)
from e2e_exercise import Api, item, patch  # noqa: E402

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
  - name: real
    type: syslog-tcp
    listen: 127.0.0.1:{port}
    peers: [127.0.0.1]
  - name: drill
    type: syslog-tcp
    listen: 127.0.0.1:%d
    peers: [127.0.0.1]
    exercise: true
"""

ATTACKER = "203.0.113.66"  # scenarios/tiny.yaml's attacker_ip
TINY = os.path.join(SOURCE, "scenarios", "tiny.yaml")


def incidents_of(api, address):
    """Ids of the incidents naming `address` among their entities."""
    st, got = api.call("GET", "/api/v1/incidents")
    ids = []
    for inc in (got or {}).get("incidents", []) if st == 200 else []:
        full = api.call("GET", "/api/v1/incidents/%d" % inc["id"])[1] or {}
        if any(e.get("value") == address for e in full.get("entities", [])):
            ids.append(inc["id"])
    return sorted(ids)


def new_incident(api, seen):
    """An intruded incident of the attacker not in `seen`, or None."""
    for iid in incidents_of(api, ATTACKER):
        if iid in seen:
            continue
        inc = api.call("GET", "/api/v1/incidents/%d" % iid)[1] or {}
        if "intruded" in (inc.get("type") or ""):
            return iid
    return None


def team(api, seen, run):
    """Works this run's own incident: Orange for A, first aid, the first
    report, first aid's tasks done, then the emergency phase."""
    got = {}
    ok = wait_for(lambda: got.setdefault("id", new_incident(api, seen)) or
                  got.pop("id", None), timeout=90)
    iid = got.get("id") if ok else None
    if not check(iid is not None, "run %d: an intruded incident of its own opens (known: %s)"
                 % (run, seen)):
        return None
    st, res = patch(api, iid, {"level": "Orange", "category": "A", "phase": "first_aid",
                               "reason": "exercise run %d" % run})
    check(st == 200, "run %d: incident %d declared Orange, A, first aid (%s %s)"
          % (run, iid, st, res if st != 200 else ""))
    st, res = api.call("POST", "/api/v1/incidents/%d/reports" % iid, {"kind": "first"})
    check(st == 201, "run %d: first report written (%s)" % (run, st))
    st, res = api.call("GET", "/api/v1/incidents/%d/tasks" % iid)
    for t in (res or {}).get("tasks", []):
        if t.get("phase") == "first_aid" and t.get("required") and not t.get("done"):
            api.call("PATCH", "/api/v1/incidents/%d/tasks/%d" % (iid, t["id"]), {"done": True})
    st, res = patch(api, iid, {"phase": "emergency"})
    check(st == 200, "run %d: first aid completed (%s %s)" % (run, st, res if st != 200 else ""))
    return iid


def play(d, api, seen, run):
    proc = subprocess.Popen([BIN, "exercise", "-c", d.conf, "run", TINY, "--speed", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    iid = team(api, seen, run)
    out, err = proc.communicate(timeout=120)
    check(proc.returncode == 0 and "done;" in out, "run %d: exercise run exits 0 (%s)"
          % (run, err.strip()))
    check("warning" not in err, "run %d: no warning about an earlier run (%s)"
          % (run, err.strip()))
    r = subprocess.run([BIN, "exercise", "-c", d.conf, "report", "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    score = json.loads(r.stdout) if r.returncode == 0 else {}
    check(score.get("incidents", 0) >= 1, "run %d: the score counts its incident (%s incidents, "
          "%s alerts)" % (run, score.get("incidents"), score.get("alerts")))
    inc_item = item(score, "incident intruded, no damage yet")
    check(inc_item.get("status") == "ok", "run %d: the incident detection met (%s)"
          % (run, inc_item))
    check(score.get("first_aid") == "ok" and score.get("first_report") == "ok",
          "run %d: first aid and the first report on time (%s, %s)"
          % (run, score.get("first_aid"), score.get("first_report")))
    return iid, score


def alerts_of(d, iid):
    con = d.db()
    n = con.execute("SELECT count(*) FROM agg_alerts WHERE incident_id = ?",
                    (iid,)).fetchone()[0]
    con.close()
    return n


def main():
    drill_port = free_port()
    d = Daemon(CONFIG % drill_port)
    d.start()
    try:
        api = Api(d, user_add(d, "alice", "lead"))
        inc1, score1 = play(d, api, [], 1)
        inc2, score2 = play(d, api, [inc1] if inc1 else [], 2)
        check(inc1 and inc2 and inc1 != inc2, "the two runs have two incidents (%s, %s)"
              % (inc1, inc2))
        check(score1.get("points") is not None and score1.get("points") == score2.get("points"),
              "both runs score the same (%s and %s of %s)" % (score1.get("points"),
                                                            score2.get("points"),
                                                            score2.get("max_points")))
        before = {i: alerts_of(d, i) for i in (inc1, inc2) if i}
        # anomaly detection keeps each run's baselines apart from the real ones
        _, _, text = d.get("/metrics")
        learned = d.metric(text, "hikeshi_anomaly_baselines")
        check(learned == 0, "the exercise runs taught the real anomaly baselines nothing "
              "(%s tracked)" % learned)

        # the same attacker on the real input, within the hour
        lines = ["<38>%s www1 sshd[%d]: Failed password for root from %s port %d ssh2"
                 % (syslog_stamp(), 31000 + i, ATTACKER, 42000 + i) for i in range(12)]
        lines.append("<38>%s www1 sshd[31100]: Accepted password for root from %s port 43000 ssh2"
                     % (syslog_stamp(), ATTACKER))
        with socket.create_connection(("127.0.0.1", d.port)) as s:
            s.sendall(("\n".join(lines) + "\n").encode())
        got = {}
        wait_for(lambda: got.setdefault("id", new_incident(api, [inc1, inc2])) or
                 got.pop("id", None), timeout=60)
        real = got.get("id")
        con = d.db()
        marked = real and con.execute("SELECT count(*) FROM exercise_marks WHERE kind = "
                                      "'incident' AND id = ?", (real,)).fetchone()[0]
        real_alerts = con.execute(
            "SELECT count(*) FROM agg_alerts WHERE id NOT IN (SELECT id FROM exercise_marks "
            "WHERE kind = 'agg')").fetchone()[0]
        joined = con.execute(
            "SELECT count(*) FROM agg_alerts WHERE incident_id IN (?, ?) AND id NOT IN "
            "(SELECT id FROM exercise_marks WHERE kind = 'agg')",
            (inc1 or 0, inc2 or 0)).fetchone()[0]
        con.close()
        check(real is not None and marked == 0,
              "the real brute force opens a real incident of its own (%s)" % real)
        check(real_alerts > 0 and joined == 0,
              "no real alert joined an exercise incident (%d real alerts, %d joined)"
              % (real_alerts, joined))
        baselines = {}
        check(wait_for(lambda: baselines.__setitem__("n", d.metric(
            d.get("/metrics")[2], "hikeshi_anomaly_baselines") or 0) or baselines["n"] > 0,
            timeout=30), "the real records are learned (%s baselines tracked)"
              % baselines.get("n"))
        after = {i: alerts_of(d, i) for i in before}
        check(after == before, "the exercise incidents did not grow (%s then %s)"
              % (before, after))
    finally:
        d.stop()
    finish()


if __name__ == "__main__":
    main()
