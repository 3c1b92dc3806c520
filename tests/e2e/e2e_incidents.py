"""The measure of done of triage: the generator's day of mixed logs with
injected attacks over benign noise.  Every injected attack must become
exactly one incident of the right type naming the right entity, and benign
traffic none (bench/score-incidents.py judges, against the generator's
ground truth).  Checked twice: `hikeshi scan --incidents` over the file,
and the daemon following the file, from the incidents in its store.  The
funnel (records -> alerts -> aggregated alerts -> incidents) is printed."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, GEN_DAY_CONFIG, SOURCE, Daemon, check, finish, wait_for  # noqa: E402

GEN = os.environ.get("HIKESHI_GEN", "build/bench/hikeshi-gen")
SCORE = os.path.join(SOURCE, "bench", "score-incidents.py")
RECORDS = int(os.environ.get("E2E_INCIDENT_RECORDS", "100000"))



def score(truth, incidents, what):
    r = subprocess.run([sys.executable, SCORE, truth, incidents, "--json"],
                       capture_output=True, text=True)
    print(r.stdout, end="")
    last = json.loads(r.stdout.strip().splitlines()[-1])
    check(r.returncode == 0,
          "%s: every attack is one incident of the right type, no other incident "
          "(precision %.3f, recall %.3f, %d/%d typed, %d incidents)" % (
              what, last["precision"], last["recall"], last["typed"], last["attacks"],
              last["incidents"]))
    return last


def main():
    tmp = tempfile.mkdtemp(prefix="hikeshi-incidents-")
    log, truth = os.path.join(tmp, "day.log"), os.path.join(tmp, "truth.json")
    subprocess.run([GEN, "--records", str(RECORDS), "--seed", "1", "-o", log, "--truth", truth],
                   check=True)

    # 1. Offline: scan.
    inc, summ = os.path.join(tmp, "inc.jsonl"), os.path.join(tmp, "s.json")
    r = subprocess.run([os.path.abspath(BIN), "scan", "--no-progress", "-f", "jsonl",
                        "--incidents", inc, "--summary-json", summ, log],
                       capture_output=True, text=True, cwd=SOURCE)
    check(r.returncode == 0, "scan exits 0 (%s)" % r.stderr[-300:])
    funnel = [l for l in r.stderr.splitlines() if l.startswith("funnel:")]
    check(len(funnel) == 1, "scan prints the funnel")
    s = json.load(open(summ))
    print("funnel: %d records -> %d alerts -> %d aggregated alerts -> %d incidents" % (
        s["records"], s["alerts"], s["aggregated"], s["incidents"]))
    check(s["records"] == RECORDS and s["alerts"] > s["aggregated"] > s["incidents"] > 0,
          "the funnel narrows: records > alerts > aggregated alerts > incidents")
    score(truth, inc, "scan")
    lines = [json.loads(l) for l in open(inc)]
    check(lines and all(i.get("why", "").startswith("opened because: ") and
                        isinstance(i.get("risk_opened"), bool) for i in lines),
          "every incident of scan --incidents says why it opened (%s)" %
          sorted({i.get("why", "").split(",")[0] for i in lines})[:4])

    # 2. Live: the daemon following the same file, incidents from its store.
    d = Daemon(GEN_DAY_CONFIG, workdir=tmp)
    d.start()

    def processed():
        _, _, text = d.get("/metrics")
        return d.metric(text, "hikeshi_pipeline_records_total", 'input="gen"') or 0
    check(wait_for(lambda: processed() >= RECORDS, timeout=300), "the daemon read the day")
    _, _, text = d.get("/metrics")
    m = {k: d.metric(text, "hikeshi_" + k) or 0 for k in (
        "triage_alerts_total", "triage_aggregated_alerts_total", "triage_incidents_total",
        "triage_risk_only_alerts_total", "triage_risk_opened_incidents_total",
        "correlation_groups", "correlation_evicted_age_total", "correlation_hits_total",
        "anomaly_baselines")}
    print("metrics:", m)
    check(m["triage_alerts_total"] > m["triage_aggregated_alerts_total"] >
          m["triage_incidents_total"] > 0,
          "/metrics shows the funnel (alerts, aggregated alerts, incidents)")
    check(0 < m["triage_risk_only_alerts_total"] < m["triage_alerts_total"] and
          m["triage_risk_opened_incidents_total"] <= m["triage_incidents_total"],
          "/metrics counts alerts that only added risk and incidents opened by risk")
    check(m["correlation_hits_total"] > 0 and m["correlation_evicted_age_total"] > 0,
          "/metrics shows correlation hits and groups evicted as their windows end")
    check(m["anomaly_baselines"] > 0, "/metrics shows the anomaly baselines tracked")
    rc = d.stop()
    check(rc == 0, "SIGTERM exits 0")
    con = d.db()
    rows = con.execute("SELECT * FROM incidents ORDER BY id").fetchall()
    nagg = con.execute("SELECT count(*) FROM agg_alerts").fetchone()[0]
    nal = con.execute("SELECT count(*) FROM alerts").fetchone()[0]
    linked = con.execute("SELECT count(*) FROM agg_alerts WHERE incident_id IS NOT NULL")\
        .fetchone()[0]
    con.close()
    check(nal > nagg > len(rows) > 0 and linked >= len(rows),
          "the store holds alerts (%d), aggregated alerts (%d, %d in incidents) and "
          "incidents (%d)" % (nal, nagg, linked, len(rows)))
    dinc = os.path.join(tmp, "daemon-inc.jsonl")

    def iso(us):
        import datetime
        return datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc)\
            .strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with open(dinc, "w") as f:
        for row in rows:
            f.write(json.dumps({"id": row["id"], "entity": row["entity_key"],
                                "type": row["type"], "first": iso(row["first_us"]),
                                "last": iso(row["last_us"]),
                                "victims": ", ".join(json.loads(row["victims"] or "[]"))}) + "\n")
    score(truth, dinc, "daemon")

    # The anomaly baselines survive a restart (kept in the store at stop).
    d.start()
    check(wait_for(lambda: "anomaly: baselines restored" in d.read_log()),
          "a restarted daemon restores the anomaly baselines from the store")
    check(d.stop() == 0, "second stop exits 0")
    check(all(r["phase"] == "new" and r["level"] in ("Green", "Yellow", "Orange", "Red")
              for r in rows), "stored incidents are new, with a proposed level")
    check(all((r["opened_why"] or "").startswith("opened because: ") for r in rows),
          "stored incidents keep why they opened")
    finish()


if __name__ == "__main__":
    main()
