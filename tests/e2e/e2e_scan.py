"""End to end for `hikeshi scan`: the real samples in ../shared/data as
plain files, gzip, a directory and stdin; the three output formats; the
summary JSON; a corrupt gzip; and a missing file."""

import csv
import gzip
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, SOURCE, check, finish  # noqa: E402

OPENSSH = os.path.join(SHARED, "data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log")
LINUX = os.path.join(SHARED, "data/linux-logs/loghub/Linux/Linux_2k.log")
APACHE = os.path.join(SHARED, "data/linux-logs/loghub/Apache/Apache_2k.log")

# Independent of hikeshi: the OpenSSH lines the built-in root-failure rule
# is about ("Failed password for root from ...", also when syslog folded
# repeats into "message repeated N times: [ Failed password for root ...]").
ROOT_FAIL = re.compile(
    r"sshd\[\d+\]: (message repeated \d+ times: \[ )?Failed password for root from ")


def scan(*args, stdin=None):
    """hikeshi scan from the source root, where its default configuration
    finds the bundled rules (./rules)."""
    return subprocess.run([os.path.abspath(BIN), "scan", "--no-progress"] + list(args),
                          input=stdin, capture_output=True, timeout=300, cwd=SOURCE)


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main():
    for p in (OPENSSH, LINUX, APACHE):
        if not check(os.path.exists(p), "sample present: " + p):
            finish()
    tmp = tempfile.mkdtemp(prefix="hikeshi-scan-")
    expected_root = sum(1 for l in open(OPENSSH, errors="replace") if ROOT_FAIL.search(l))
    check(expected_root > 0, "the OpenSSH sample has root login failures (%d)" % expected_root)

    # Plain file, JSON lines out, summary JSON.
    summ = os.path.join(tmp, "s.json")
    r = scan("-f", "jsonl", "--summary-json", summ, OPENSSH)
    check(r.returncode == 0, "scan OpenSSH exits 0 (%s)" % r.stderr.decode()[-300:])
    s = json.load(open(summ))
    check(s["records"] == 2000, "summary: 2000 records (got %d)" % s["records"])
    check(s["decoded"] + s["unparsed"] == s["records"], "summary: decoded + unparsed = records")
    check(s["decoded"] == 2000, "every OpenSSH line decoded (got %d)" % s["decoded"])
    for k in ("records", "decoded", "unparsed", "alerts", "seconds", "bytes", "max_rss_kb"):
        check(k in s, "summary has %s" % k)
    alerts = [json.loads(l) for l in r.stdout.decode().splitlines()]
    root = [a for a in alerts if a["rule"]["title"] == "SSH Login Failure for Root"]
    check(len(root) == expected_root,
          "root-failure alerts: %d, lines in the sample: %d" % (len(root), expected_root))
    check(all(a["fields"]["user.name"] == "root" and ROOT_FAIL.search(a["raw"]) for a in root),
          "each alert is a real root failure line with its fields")
    check(all(a["@timestamp"].startswith("20") and a["fields"].get("event.original_time")
              for a in root), "alerts carry the event time (UTC) and the original timestamp")
    check(s["alerts"] == len(alerts), "summary alert count matches the output")

    # gzip (detected by content, not name), CSV out: the same alerts.
    gz = os.path.join(tmp, "openssh.data")
    with open(OPENSSH, "rb") as f, gzip.open(gz, "wb") as g:
        shutil.copyfileobj(f, g)
    r = scan("-f", "csv", gz)
    rows = list(csv.reader(io.StringIO(r.stdout.decode())))
    check(r.returncode == 0 and rows[0][:5] == ["time", "host", "source", "event_id", "level"],
          "CSV has a header")
    check(len(rows) - 1 == len(alerts), "gzip scan finds the same alerts (%d)" % (len(rows) - 1))

    # A directory, recursively, with a nested gzip and the other samples.
    dd = os.path.join(tmp, "evidence", "nested")
    os.makedirs(dd)
    shutil.copy(LINUX, os.path.join(tmp, "evidence", "linux.log"))
    shutil.copy(APACHE, os.path.join(dd, "apache.log"))
    shutil.copy(gz, os.path.join(dd, "ssh.log.gz"))
    summ2 = os.path.join(tmp, "s2.json")
    r = scan("--summary-json", summ2, os.path.join(tmp, "evidence"))
    s2 = json.load(open(summ2))
    total = count_lines(LINUX) + count_lines(APACHE) + 2000
    check(r.returncode == 0 and s2["files"] == 3, "directory scan reads 3 files recursively")
    check(s2["records"] == total, "directory scan: %d records (got %d)" % (total, s2["records"]))
    table = r.stdout.decode().splitlines()
    check(table[0].split()[:5] == ["TIME", "HOST", "SOURCE", "EVENTID", "LEVEL"],
          "table output has the timeline header")
    check(len(table) - 1 == s2["alerts"], "table has one row per alert")
    check(sum(s2["alerts_by_level"].values()) == s2["alerts"], "alerts by level add up")

    # --min-level shows only alerts at or above the level; all are counted.
    r = scan("--min-level", "medium", "--summary-json", summ2, os.path.join(tmp, "evidence"))
    s4 = json.load(open(summ2))
    rows4 = r.stdout.decode().splitlines()[1:]
    want = sum(s4["alerts_by_level"][k] for k in ("medium", "high", "critical"))
    check(r.returncode == 0 and len(rows4) == want == s4["alerts_shown"] and
          s4["alerts"] == s2["alerts"],
          "--min-level medium shows %d of %d alerts" % (len(rows4), s4["alerts"]))
    check(all(row.split()[4] in ("medium", "high", "critical") for row in rows4),
          "--min-level hides the lower levels")
    check(b"alerts by rule:" in r.stderr, "the summary lists alerts by rule")

    # Standard input.
    r = scan("--summary-json", summ, "-", stdin=open(OPENSSH, "rb").read())
    check(r.returncode == 0 and json.load(open(summ))["records"] == 2000, "scan - reads stdin")

    # Corrupt gzip: the good lines are scanned, the error named, exit 1.
    data = open(gz, "rb").read()
    bad = os.path.join(tmp, "bad.gz")
    with open(bad, "wb") as f:
        f.write(data[: len(data) // 2] + b"\x00" * 64)
    r = scan("--summary-json", summ, bad)
    s3 = json.load(open(summ))
    check(r.returncode == 1 and 0 < s3["records"] < 2000,
          "corrupt gzip: some lines scanned (%d), exit 1" % s3["records"])
    check(b"bad.gz" in r.stderr, "corrupt gzip: the file is named in the error")

    # A missing path does not stop the others.
    r = scan("--summary-json", summ, os.path.join(tmp, "missing.log"), OPENSSH)
    check(r.returncode == 1 and json.load(open(summ))["records"] == 2000,
          "a missing path is reported and the other files still scanned")
    check(b"missing.log" in r.stderr, "the missing path is named")

    # Decode-only mode raises no alerts.
    r = scan("--no-detect", "--summary-json", summ, OPENSSH)
    check(json.load(open(summ))["alerts"] == 0, "--no-detect raises no alerts")

    # --store writes events and alerts to a store.
    sd = os.path.join(tmp, "store")
    r = scan("--store", sd, "-f", "jsonl", OPENSSH)
    con = sqlite3.connect(os.path.join(sd, "hikeshi.db"))
    ne = con.execute("select count(*) from events").fetchone()[0]
    na = con.execute("select count(*) from alerts").fetchone()[0]
    check(ne == 2000 and na == len(alerts), "--store keeps %d events and %d alerts" % (ne, na))
    # EVTX, detected by content: one known Sysmon record field by field, then
    # the whole EVTX-ATTACK-SAMPLES tree.
    evtx_dir = os.path.join(SHARED, "data/windows/EVTX-ATTACK-SAMPLES")
    one = os.path.join(evtx_dir, "Defense Evasion/DE_EventLog_Service_Crashed.evtx")
    ed = os.path.join(tmp, "evtx-store")
    r = scan("--store", ed, "--summary-json", summ, one)
    se = json.load(open(summ))
    check(r.returncode == 0 and se["records"] == 4 and se["decoded"] == 4,
          "EVTX file: 4 records, 4 decoded (%s)" % se)
    con = sqlite3.connect(os.path.join(ed, "hikeshi.db"))
    rows = [json.loads(f) for (f,) in con.execute(
        "select fields from events where input = 'scan-evtx' and decoder = 'winxml'")]
    rec = [f for f in rows if f.get("EventRecordID") == "370747"]
    want = {"EventID": "1", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "MSEDGEWIN10", "Image": "C:\\Windows\\System32\\WerFault.exe",
            "CommandLine": "C:\\Windows\\system32\\WerFault.exe -u -p 3004 -s 632",
            "ParentImage": "C:\\Windows\\System32\\svchost.exe",
            "process.executable": "C:\\Windows\\System32\\WerFault.exe",
            "host.name": "MSEDGEWIN10", "@timestamp": "2020-09-05T13:28:40.585462Z"}
    check(len(rec) == 1 and all(rec[0].get(k) == v for k, v in want.items()),
          "EVTX Sysmon record 370747 decoded to its System and EventData fields")
    evtx_files = sorted(os.path.join(d, f) for d, _, fs in os.walk(evtx_dir)
                        for f in fs if f.endswith(".evtx"))
    r = scan("--summary-json", summ, *evtx_files)
    sa = json.load(open(summ))
    # libevtx renders some templates as broken XML (garbage element names,
    # mismatched tags); those records are refused as malformed and stored raw,
    # so the floor is 96 % rather than all.
    check(r.returncode == 0 and sa["files"] == len(evtx_files) and sa["records"] > 9000 and
          sa["evtx_records_skipped"] == 0,
          "EVTX-ATTACK-SAMPLES: %d files, %d records read, none skipped" % (
              len(evtx_files), sa["records"]))
    check(sa["decoded"] >= 0.96 * sa["records"],
          "EVTX-ATTACK-SAMPLES: %d/%d decoded" % (sa["decoded"], sa["records"]))

    correlation_memory(tmp)
    ids_risk(tmp)
    json_arrays(tmp)
    zeek_default(tmp)

    shutil.rmtree(tmp)
    finish()


def zeek_default(tmp):
    """Zeek's default TSV logs (the zed sample, gzipped, a directory of 32
    logs): every line is read, each header line and each row decoded with
    its own file's header; the rows of one file without its header are
    not (a row means nothing without #fields)."""
    zdir = os.path.join(SHARED, "data/network/zed-sample-data/zeek-default")
    files = sorted(os.path.join(zdir, f) for f in os.listdir(zdir) if f.endswith(".log.gz"))
    lines = 0
    for f in files:
        with gzip.open(f, "rb") as g:
            lines += sum(1 for _ in g)
    summ = os.path.join(tmp, "zeek-s.json")
    r = scan("--no-detect", "--summary-json", summ, zdir)
    s = json.load(open(summ))
    check(r.returncode == 0 and s["files"] == len(files) == 32 and s["records"] == lines,
          "zeek-default: %d files, %d records read (%d lines)" % (s["files"], s["records"], lines))
    check(s["decoded"] == s["records"] and s["malformed"] == 0,
          "zeek-default: every header line and row decoded (%d of %d)"
          % (s["decoded"], s["records"]))
    rows = os.path.join(tmp, "weird-rows.log")
    with gzip.open(os.path.join(zdir, "weird.log.gz"), "rb") as g, open(rows, "wb") as o:
        o.writelines(l for l in g if not l.startswith(b"#"))
    r = scan("--no-detect", "--summary-json", summ, rows)
    s = json.load(open(summ))
    check(r.returncode == 0 and s["records"] == 24202 and s["decoded"] == 0,
          "zeek rows without their header are not decoded (%d of %d)"
          % (s["decoded"], s["records"]))


def json_arrays(tmp):
    """Files written as one JSON array (the public Suricata samples,
    pretty-printed): one record per element, each decoded as EVE, the
    count equal to json.load's; a broken array is reported with its
    file:line:column and the elements before it still arrive."""
    base = os.path.join(SHARED, "data", "network", "suricata-sample-data", "samples")
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name, "alerts-only.json")
        if not os.path.exists(path):
            continue
        want = len(json.load(open(path)))
        summ = os.path.join(tmp, "arr.json")
        r = scan("-f", "jsonl", "--summary-json", summ, path)
        s = json.load(open(summ))
        sigs = [json.loads(l)["fields"].get("alert.signature_id")
                for l in r.stdout.decode().splitlines() if l.strip()]
        check(r.returncode == 0 and s["records"] == want,
              "%s: one record per array element (%d of %d)" % (name, s["records"], want))
        check(sigs and all(sigs), "%s: the elements decode as EVE alerts (%d alerts, each "
              "with its signature id)" % (name, len(sigs)))
    bad = os.path.join(tmp, "broken.json")
    with open(bad, "w") as f:
        f.write('[\n  {"event_type": "alert", "src_ip": "203.0.113.5", "alert": '
                '{"signature_id": 1, "severity": 1}},\n  17,\n  {"event_type": "alert"}\n]\n')
    summ = os.path.join(tmp, "bad.json")
    r = scan("-f", "jsonl", "--summary-json", summ, bad)
    err = r.stderr.decode()
    check(r.returncode != 0 and "broken.json:3:3: not a JSON array of objects here" in err,
          "a broken array is reported with file:line:column (%s)" % err.strip()[-200:])
    check(json.load(open(summ))["records"] == 1, "the element before the break still arrives")


def correlation_memory(tmp):
    """A flood of one-off failed logins, each from a new address, around one
    address that fails ten times and then logs in.  The sized cap keeps
    everything; a 128k cap (room for about a second of the flood's groups
    in the two counts that see it, ssh_bruteforce and ssh_account_guessing)
    evicts, says so per rule on stderr and in the summary, and still keeps
    the attacker (only one-off groups go)."""
    flood = os.path.join(tmp, "flood.log")
    with open(flood, "w") as f:
        for s in range(60):
            for k in range(100):
                i = s * 100 + k
                f.write("Jun  1 10:%02d:%02d web01 sshd[%d]: Failed password for invalid user "
                        "u%d from 10.9.%d.%d port %d ssh2\n"
                        % (s // 60, s % 60, 1000 + k, i % 97, i >> 8, i & 255, 40000 + k))
            if 20 <= s < 30:
                f.write("Jun  1 10:00:%02d web01 sshd[77]: Failed password for root from "
                        "203.0.113.7 port 5%03d ssh2\n" % (s, s))
            if s == 40:
                f.write("Jun  1 10:00:40 web01 sshd[78]: Accepted password for root from "
                        "203.0.113.7 port 50040 ssh2\n")
    summ = os.path.join(tmp, "flood.json")
    for cap in ("auto", "128k"):
        conf = os.path.join(tmp, "corr-%s.yaml" % cap)
        with open(conf, "w") as f:
            f.write("correlation:\n  max_memory: %s\n" % cap)
        r = scan("-c", conf, "-f", "jsonl", "--summary-json", summ, flood)
        c = json.load(open(summ))["correlation"]
        err = r.stderr.decode()
        titles = [json.loads(l)["rule"]["title"] for l in r.stdout.decode().splitlines()]
        check(r.returncode == 0, "flood, cap %s: scan exits 0 (%s)" % (cap, err[-300:]))
        check("SSH Brute Force Followed by a Successful Login" in titles,
              "flood, cap %s: the brute force then login is found" % cap)
        by_cost = c["evicted_cap_by_cost"]
        check(sum(by_cost.values()) == c["evicted_cap"] ==
              sum(c["evicted_cap_by_rule"].values()),
              "flood, cap %s: evictions by cost and by rule add up (%s)" % (cap, c))
        if cap == "auto":
            check(c["cap_sized"] and c["max_bytes"] >= 16 << 20 and c["evicted_cap"] == 0,
                  "flood, sized cap: nothing evicted (%s)" % c)
            check("memory cap" not in err, "flood, sized cap: no eviction warning")
        else:
            n = c["evicted_cap_by_rule"].get("ssh_bruteforce", 0)
            check(not c["cap_sized"] and c["max_bytes"] == 131072 and c["bytes"] <= 131072,
                  "flood, 128k cap: the cap holds (%s)" % c)
            check(n > 5000 and by_cost["single"] == c["evicted_cap"],
                  "flood, 128k cap: ssh_bruteforce lost %d one-off groups, nothing else" % n)
            check(re.search(r"correlation ssh_bruteforce lost %d groups at the memory cap" % n,
                            err) is not None, "flood, 128k cap: scan warns, naming the rule")
            check("hikeshi[warn]: correlation 'ssh_bruteforce': " in err,
                  "flood, 128k cap: the pipeline logs the evictions")



def ids_risk(tmp):
    """Suricata EVE alerts through the bundled relay rules: 300 internet
    sources of one policy signature are one aggregated alert and no
    incident; one inside host with three malware/scan signatures in two
    tactics (two of them on one connection, counted once) opens one
    incident by risk, typed a probe (nothing but the IDS says so), that
    says why, and names no sensor as a victim."""
    def al(minute, sid, sig, tactic, flow, src, dst):
        md = {"mitre_tactic_name": [tactic]} if tactic else {}
        return {"timestamp": "2026-03-01T10:%02d:00.000000+0000" % minute, "flow_id": flow,
                "host": "sensor1", "event_type": "alert", "src_ip": src, "src_port": 40000,
                "dest_ip": dst, "dest_port": 443, "proto": "TCP",
                "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                          "signature": sig, "category": "A Network Trojan was detected",
                          "severity": 1, "metadata": md}}
    lines = [al(0, 2027865, "ET MALWARE beacon", "Command_And_Control", 111, "10.20.3.3",
                "198.51.100.7"),
             al(0, 2027866, "ET MALWARE beacon (variant)", "Command_And_Control", 111,
                "10.20.3.3", "198.51.100.7"),
             al(1, 2030358, "ET MALWARE C2 check-in", "Command_And_Control", 222, "10.20.3.3",
                "198.51.100.7")]
    lines += [al(3 + i // 60, 2013028, "ET POLICY curl User-Agent Outbound", None, 1000 + i,
                 "203.0.%d.%d" % (i // 250 + 1, i % 250 + 1), "10.20.9.9") for i in range(300)]
    eve = os.path.join(tmp, "eve.json")
    with open(eve, "w") as f:
        f.write("".join(json.dumps(x) + "\n" for x in lines))
    inc, summ = os.path.join(tmp, "ids-inc.jsonl"), os.path.join(tmp, "ids-s.json")
    r = scan("-f", "jsonl", "--incidents", inc, "--summary-json", summ, eve)
    s = json.load(open(summ))
    check(r.returncode == 0 and s["alerts"] == 303 and s["aggregated"] == 4 and
          s["incidents"] == 0 and os.path.getsize(inc) == 0,
          "EVE: 303 IDS alerts, one aggregated alert per signature, no incident (%d, %d, %d)"
          % (s["alerts"], s["aggregated"], s["incidents"]))
    with open(eve, "a") as f:
        f.write(json.dumps(al(2, 2001219, "ET SCAN SSH Scan OUTBOUND", "Reconnaissance", 333,
                              "10.20.3.3", "10.20.3.4")) + "\n")
    r = scan("-f", "jsonl", "--incidents", inc, eve)
    got = [json.loads(l) for l in open(inc)]
    check(r.returncode == 0 and len(got) == 1 and got[0]["entity"] == "source.ip=10.20.3.3" and
          got[0]["risk_opened"] is True and
          got[0]["why"] == "opened because: 3 rules, 2 tactics, risk 101 >= 100" and
          got[0]["type"] == "probe or attack without damage" and "sensor1" not in json.dumps(got),
          "EVE: a fourth signature makes three rules in two tactics: one incident by risk, "
          "a probe, that says why (%s)" % got)


if __name__ == "__main__":
    main()
