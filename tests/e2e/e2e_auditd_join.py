"""auditd's records of one system call joined into one event (issue 24),
through the real binary.

- hikeshi scan over Security-Datasets' real audit.log of an `arp -a` run:
  SigmaHQ's linux process_creation rule "Linux Remote System Discovery"
  (Image ends with /arp, CommandLine holds -a) fires once, on the joined
  execve (the SYSCALL gives the executable, the EXECVE the command line;
  neither alone has both); every record is read and decoded;
- the same file without its EXECVE records: no process start, no alert;
- SigmaHQ's auditd rule that reads single-record fields (binary padding:
  type EXECVE and the dd keywords) still fires on the joined dd call;
- hikeshi run following an audit.log: the call's records are held, then
  given as one stored event and one alert when the input goes idle (no
  EOE in those records, no later record: nothing lost for waiting)."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, SOURCE, Daemon, check, finish, wait_for  # noqa: E402

ATOMIC = os.path.join(SHARED, "data", "windows", "Security-Datasets", "datasets", "atomic",
                      "linux")
ARP = os.path.join(ATOMIC, "discovery", "host", "sh_arp_cache_2020-11-10074812.log")
DD = os.path.join(ATOMIC, "defense_evasion", "host", "sh_binary_padding_dd_2020-11-10081941.log")
RULE = os.path.join(SHARED, "sigma", "rules", "linux", "process_creation",
                    "proc_creation_lnx_remote_system_discovery.yml")
PADDING = os.path.join(SHARED, "sigma", "rules", "linux", "auditd", "execve",
                       "lnx_auditd_binary_padding.yml")
RULE_ID = "11063ec2-de63-4153-935e-b1a8b9e616f1"


def scan(rule, path):
    """hikeshi scan -f jsonl: (alerts, stderr)."""
    p = subprocess.run([BIN, "scan", "-f", "jsonl", "-r", rule, path], capture_output=True,
                       text=True, timeout=120, cwd=SOURCE)
    alerts = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    return alerts, p.stderr


def first(v):
    return v[0] if isinstance(v, list) else v


def main():
    with open(ARP) as f:
        arp = [l for l in f.read().splitlines() if l]
    with tempfile.TemporaryDirectory() as d:
        alerts, err = scan(RULE, ARP)
        check(len(alerts) == 1 and alerts[0]["rule"]["id"] == RULE_ID,
              "SigmaHQ remote system discovery: one alert on the real arp -a call (%d)"
              % len(alerts))
        if alerts:
            fl = alerts[0]["fields"]
            check(first(fl.get("process.executable")) == "/usr/sbin/arp" and
                  first(fl.get("process.command_line")) == "arp -a" and
                  first(fl.get("event.sequence")) == "92733" and
                  first(fl.get("event.category")) == "process",
                  "the alert's event is the joined call: /usr/sbin/arp, 'arp -a', serial 92733")
            check(fl.get("type") == ["SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"],
                  "its records are all there: %s" % fl.get("type"))
        check("12 records (12 decoded, 0 unparsed" in err, "every record read and decoded")

        no_execve = os.path.join(d, "no_execve.log")
        with open(no_execve, "w") as f:
            f.write("\n".join(l for l in arp if "type=EXECVE" not in l) + "\n")
        alerts, _ = scan(RULE, no_execve)
        check(alerts == [], "without the EXECVE records no process start: no alert (%d)"
              % len(alerts))

        alerts, _ = scan(PADDING, DD)
        check(len(alerts) == 1 and alerts[0]["rule"]["title"] == "Binary Padding - Linux",
              "SigmaHQ auditd binary padding rule still fires on the joined dd call (%d)"
              % len(alerts))

    dm = Daemon("""
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: audit
    type: file
    path: {dir}/audit.log
    from_start: true
    poll_ms: 50
sigma:
  rules: [%s]
  mappings: {src}/rules/config
""" % RULE)
    log = os.path.join(dm.dir, "audit.log")
    with open(log, "w") as f:
        f.write("\n".join(arp[:6]) + "\n")  # the arp call only
    dm.start()
    try:
        check(wait_for(lambda: len(dm.alerts()) >= 1, timeout=15),
              "hikeshi run: the held call is given when the input is idle, and alerts")
        evs = [e for e in dm.events() if "type=EXECVE" in bytes(e["raw"]).decode()]
        check(len(evs) == 1 and bytes(evs[0]["raw"]).decode().count("\n") == 5,
              "one stored event holds the call's 6 records (%d)" % len(evs))
        check(any(RULE_ID in str(v) for v in dm.alerts()[0]), "the alert is the arp rule's")
    finally:
        check(dm.stop() == 0, "daemon: stops cleanly")
    finish()


if __name__ == "__main__":
    main()
