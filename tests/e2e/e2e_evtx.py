"""End to end for an EVTX file followed by the daemon's file input: every
live record is decoded and matched by the Sigma rules, a restart neither
loses nor repeats a record, and a new file at the path (a fresh export of
the log) is read from its first record."""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, Daemon, check, finish, wait_for  # noqa: E402

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
store:
  events: true
inputs:
  - name: winsec
    type: file
    path: {dir}/Security.evtx
    from_start: true
    poll_ms: 50
"""

SAMPLES = os.path.join(SHARED, "data", "windows", "EVTX-ATTACK-SAMPLES")
CLEARED = os.path.join(SAMPLES, "Defense Evasion", "DE_1102_security_log_cleared.evtx")
SERVICE = os.path.join(SAMPLES, "Lateral Movement", "LM_Remote_Service02_7045.evtx")


def scan_count(path):
    """Live records (recovered ones left out: the daemon follows only the
    live log) and alerts `hikeshi scan` finds in the file: the reference."""
    out = subprocess.run([BIN, "scan", "-q", "--summary-json", "/dev/stderr", "--format", "jsonl",
                          path], capture_output=True, text=True)
    for line in out.stderr.splitlines():
        if line.startswith("{") and '"records"' in line:
            s = json.loads(line)
            return s["records"] - s["evtx_records_recovered"], s["alerts"]
    raise RuntimeError("scan printed no summary: " + out.stdout + out.stderr)


def processed(d):
    _, _, text = d.get("/metrics")
    return d.metric(text, "hikeshi_pipeline_records_total", 'input="winsec"') or 0


def rule_titles(d):
    return [a["rule_title"] for a in d.alerts()]


def main():
    for p in (CLEARED, SERVICE):
        if not os.path.exists(p):
            check(False, "sample present: " + p)
            finish()
    n1, _ = scan_count(CLEARED)
    n2, _ = scan_count(SERVICE)
    check(n1 > 0 and n2 > 0, "scan reads the samples (%d and %d records)" % (n1, n2))

    d = Daemon(CONFIG)
    target = os.path.join(d.dir, "Security.evtx")
    shutil.copyfile(CLEARED, target)
    d.start()
    check(wait_for(lambda: processed(d) >= n1, timeout=20),
          "every record of the EVTX file is read (%d)" % n1)
    check(wait_for(lambda: any("cleared" in t.lower() for t in rule_titles(d))),
          "the log-cleared rule fires on event 1102")
    rc = d.stop()
    check(rc == 0, "SIGTERM exits 0")
    ev = d.events()
    check(len(ev) == n1, "each record stored once (%d of %d)" % (len(ev), n1))
    check(len(ev) > 0 and all(e["decoder"] == "winxml" for e in ev),
          "records decoded as Windows event XML")

    # Restart on the same file: nothing new, nothing repeated.
    d.start()
    check(wait_for(lambda: "ready" in d.read_log()), "restarted")
    time.sleep(0.5)
    rc = d.stop()
    check(rc == 0, "second stop exits 0")
    check(len(d.events()) == n1, "a restart repeats no record (%d)" % len(d.events()))

    # A new export at the path: read from its first record.
    tmp = target + ".tmp"
    shutil.copyfile(SERVICE, tmp)
    os.rename(tmp, target)
    d.start()
    check(wait_for(lambda: len(d.events()) >= n1 + n2, timeout=20),
          "a replaced file is read from its first record (%d)" % (n1 + n2))
    check(wait_for(lambda: any("service" in t.lower() for t in rule_titles(d))),
          "the service-install rule fires on the new file")
    rc = d.stop()
    check(rc == 0, "third stop exits 0")
    check(len(d.events()) == n1 + n2, "no record lost or doubled (%d)" % len(d.events()))
    finish()


if __name__ == "__main__":
    main()
