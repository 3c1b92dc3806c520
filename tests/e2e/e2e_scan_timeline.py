"""End to end for `hikeshi scan` as a hunting timeline (issue 21): the
EVTX-ATTACK-SAMPLES scanned with SigmaHQ's rules/windows/builtin/security
loaded by -r (plus a rule of our own with hostile text): the CSV has the
columns docs/scan.md documents, in event-time order, with details from the
field profiles and never an event's XML, ATT&CK names that match each
rule's own tags; the summary is on stderr and in a self-contained HTML page
that parses and escapes; -o writes the file; --from/--to select exactly the
rows in range; a tiny --sort-memory (the external merge) changes nothing;
-f jsonl carries the same details, channel, record_id, ATT&CK names and
file as the CSV, row for row."""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, SOURCE, check, finish  # noqa: E402

EVTX = os.path.join(SHARED, "data/windows/EVTX-ATTACK-SAMPLES")
SIGMA_SEC = os.path.join(SHARED, "sigma/rules/windows/builtin/security")

HOSTILE_TITLE = '<script>alert("t")</script> & <b>x</b>'
HOSTILE_AUTHOR = '"><img src=x onerror=alert(1)>'
HOSTILE_RULE = """title: '%s'
id: 0d5f1a52-6b0e-4c37-9d1e-2f3a8c4b7e61
status: test
description: a rule of the test's own whose text is hostile HTML
author: '%s'
tags:
    - attack.credential-access
    - attack.t1003.001
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4624
    condition: selection
level: critical
""" % (HOSTILE_TITLE, HOSTILE_AUTHOR)

TACTICS = {"Reconnaissance", "Resource Development", "Initial Access", "Execution",
           "Persistence", "Privilege Escalation", "Defense Evasion", "Credential Access",
           "Discovery", "Lateral Movement", "Collection", "Command and Control",
           "Exfiltration", "Impact"}

# What the profiles promise to show for these event kinds (docs/scan.md).
PROFILE_LABELS = {("Security", "4624"): ("User: ", "LogonType: "),
                  ("Security", "4625"): ("User: ", "LogonType: "),
                  ("Security", "4688"): ("Process: ",),
                  ("System", "7045"): ("Service: ",)}


def scan(*args):
    return subprocess.run([os.path.abspath(BIN), "scan", "--no-progress"] + list(args),
                          capture_output=True, timeout=300, cwd=SOURCE)


def when(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def documented_columns():
    """The CSV columns as docs/scan.md lists them: rows of its column table
    start with | `name` |."""
    cols = []
    in_table = False
    with open(os.path.join(SOURCE, "docs/scan.md")) as f:
        for line in f:
            if line.startswith("## CSV columns"):
                in_table = True
            elif line.startswith("## ") and in_table:
                break
            m = re.match(r"\| `([a-z_]+)` \|", line)
            if in_table and m:
                cols.append(m.group(1))
    return cols


def rule_tags():
    """id -> tags of every SigmaHQ rule in SIGMA_SEC, read from the YAML
    files with a minimal reader of our own (id: and the tags: list)."""
    tags = {}
    for d, _, files in os.walk(SIGMA_SEC):
        for fn in files:
            if not fn.endswith(".yml"):
                continue
            rid, cur, in_tags = None, [], False
            with open(os.path.join(d, fn), encoding="utf-8") as f:
                for line in f:
                    if line.startswith("id:"):
                        rid = line.split(":", 1)[1].strip()
                    elif line.startswith("tags:"):
                        in_tags = True
                    elif in_tags and re.match(r"\s+-\s", line):
                        cur.append(line.split("-", 1)[1].strip())
                    elif in_tags:
                        in_tags = False
            if rid:
                tags[rid] = cur
    return tags


def expected_attack(tags):
    tac, tech = [], []
    for t in tags:
        t = t.lower()
        if not t.startswith("attack."):
            continue
        t = t[7:]
        if re.fullmatch(r"t\d+(\.\d+)?", t):
            tech.append(t.upper())
        else:
            name = t.replace("-", " ").replace("_", " ").title().replace(" And ", " and ")
            if name in TACTICS:
                tac.append(name)
    return ", ".join(tac), ", ".join(tech)


def rule_rows_alone(path, rdir):
    """The record ids the test's rule finds in `path` scanned alone."""
    r = subprocess.run([os.path.abspath(BIN), "scan", "--no-progress", "-q", "-r", rdir,
                        "-f", "csv", path], capture_output=True, timeout=120, cwd=SOURCE)
    return Counter(x["record_id"] for x in csv.DictReader(io.StringIO(r.stdout.decode()))
                   if x["rule_title"] == HOSTILE_TITLE)


class Page(HTMLParser):
    """Collects the tags seen and the text of each table's cells."""

    def __init__(self):
        super().__init__()
        self.tags = Counter()
        self.table = None
        self.rows = {}
        self.cell = None

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        if tag == "table":
            self.table = dict(attrs).get("id")
            self.rows[self.table] = []
        elif tag == "tr" and self.table:
            self.rows[self.table].append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.table:
            self.rows[self.table][-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def check_rows(rows, header):
    check(header == documented_columns(),
          "CSV columns are the documented ones: %s" % ",".join(header))
    times = [when(r["time"]) for r in rows]
    inv = sum(1 for a, b in zip(times, times[1:]) if b < a)
    check(len(rows) > 100 and inv == 0, "%d rows in event-time order (%d inversions)"
          % (len(rows), inv))
    win = [r for r in rows if r["source"] in ("Security", "System")]
    check(all("<Event" not in r["details"] and "</" not in r["details"] for r in rows),
          "no details column holds an event's XML")
    check(all(r["details"].strip() for r in win), "every Windows row has details")
    check(all(len(r["details"].encode()) <= 1100 for r in rows), "details are cut at ~1 KiB")
    check(all(r["record_id"].isdigit() for r in win), "Windows rows carry their RecordID")
    check(all(r["file"].startswith(EVTX + "/") and r["file"].endswith(".evtx") and
              os.path.isfile(r["file"]) for r in win),
          "Windows rows name the EVTX file their event came from")

    prof = [r for r in rows if (r["source"], r["event_id"]) in PROFILE_LABELS]
    check(len(prof) > 10 and all(all(lbl in r["details"] for lbl in
                                     PROFILE_LABELS[(r["source"], r["event_id"])])
                                 for r in prof),
          "%d rows of profiled kinds (4624, 4625, 4688, 7045) show their profile" % len(prof))
    tags = rule_tags()
    bad = [r["rule_id"] for r in rows if r["rule_id"] in tags and
           (r["tactics"], r["techniques"]) != expected_attack(tags[r["rule_id"]])]
    sig = sum(1 for r in rows if r["rule_id"] in tags)
    check(sig > 100 and not bad, "ATT&CK columns match the tags of the %d SigmaHQ rows' rules "
          "(wrong: %s)" % (sig, sorted(set(bad))[:5]))
    mine = [r for r in rows if r["rule_title"] == HOSTILE_TITLE]
    check(mine and all(r["tactics"] == "Credential Access" and r["techniques"] == "T1003.001"
                       for r in mine),
          "the test's rule (%d rows): attack.credential-access, attack.t1003.001" % len(mine))


def check_jsonl(text, rows):
    """-f jsonl of the same scan: one object per CSV row, in the same order,
    with the timeline's columns as fields (docs/scan.md)."""
    objs = [json.loads(line) for line in text.splitlines()]
    check(len(objs) == len(rows), "-f jsonl: one object per CSV row (%d, %d)"
          % (len(objs), len(rows)))
    bad = []
    for o, r in zip(objs, rows):
        want_rid = int(r["record_id"]) if r["record_id"].isdigit() else None
        win = r["source"] in ("Security", "System")
        if (o["rule"]["id"] != r["rule_id"] or o["details"] != r["details"] or
                o["record_id"] != want_rid or (win and o["channel"] != r["source"]) or
                not isinstance(o["tactics"], list) or not isinstance(o["techniques"], list) or
                ", ".join(o["tactics"]) != r["tactics"] or
                ", ".join(o["techniques"]) != r["techniques"] or
                (o["file"] or "") != r["file"]):
            bad.append(r["rule_id"])
    check(not bad, "-f jsonl: details, channel, record_id, tactics, techniques and file "
          "match the CSV row for row (differ: %d, e.g. %s)" % (len(bad), bad[:3]))
    win = [o for o in objs if o["channel"] in ("Security", "System")]
    check(len(win) > 100 and all(isinstance(o["record_id"], int) for o in win),
          "-f jsonl: %d Windows alerts carry their channel and a numeric record_id" % len(win))
    check(any(o["tactics"] and o["techniques"] for o in objs),
          "-f jsonl: ATT&CK tactics and techniques as arrays of names")


def check_html(path, rows):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p = Page()
    p.feed(text)
    p.close()
    check(p.tags["script"] == 0 and p.tags["img"] == 0 and "<script>" not in text,
          "the hostile title and author are escaped, not markup")
    rules = p.rows.get("rules", [])
    check(any(HOSTILE_TITLE in row and HOSTILE_AUTHOR in row for row in rules),
          "the top rules show the hostile title and author as text")
    levels = {row[0]: int(row[1]) for row in p.rows.get("levels", [])[1:]}
    want = Counter(r["level"] for r in rows)
    check(levels == {k: want.get(k, 0) for k in
                     ("critical", "high", "medium", "low", "informational")},
          "HTML alerts by level match the rows: %s" % levels)
    hosts = {row[0]: row for row in p.rows.get("hosts", [])[1:]}
    by_host = Counter(r["host"] or "-" for r in rows)
    check(set(hosts) == set(by_host) and
          all(int(hosts[h][6]) == n for h, n in by_host.items()),
          "HTML hosts and their alert counts match the rows (%d hosts)" % len(by_host))
    first = {}
    last = {}
    for r in rows:
        h = r["host"] or "-"
        first.setdefault(h, r["time"])
        last[h] = r["time"]
    check(all(hosts[h][7] == first[h] and hosts[h][8] == last[h] for h in by_host),
          "HTML first and last detection per host match the rows")
    crit = [row[0] for row in p.rows.get("hosts", [])[1:]]
    order = [(-int(hosts[h][1]), -int(hosts[h][2])) for h in crit]
    check(order == sorted(order), "hosts listed by critical, then high alerts")


def main():
    tmp = tempfile.mkdtemp(prefix="hikeshi-timeline-")
    rdir = os.path.join(tmp, "rules")
    os.makedirs(rdir)
    with open(os.path.join(rdir, "hostile.yml"), "w") as f:
        f.write(HOSTILE_RULE)
    out = os.path.join(tmp, "timeline.csv")
    html = os.path.join(tmp, "report.html")
    summ = os.path.join(tmp, "summary.json")

    r = scan("-r", SIGMA_SEC, "-r", rdir, "-f", "csv", "-o", out, "--summary-json", summ,
             "--html-report", html, EVTX)
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 0, "scan with -r SigmaHQ security and -o exits 0 (%d)" % r.returncode)
    check(r.stdout == b"", "-o: nothing of the timeline on stdout")
    with open(out, encoding="utf-8") as f:
        data = f.read()
    reader = csv.DictReader(io.StringIO(data))
    rows = list(reader)
    s = json.load(open(summ))
    check(len(rows) == s["alerts_shown"] == s["alerts"],
          "-o FILE holds every alert (%d rows, %d alerts)" % (len(rows), s["alerts"]))
    check_rows(rows, reader.fieldnames)
    for what in ("alerts by level:", "top rules:", "hosts by critical and high alerts",
                 "alerts by rule:"):
        check(what in err, "the summary on stderr has %r" % what)
    lv = Counter(r["level"] for r in rows)
    check("alerts by level: critical %d, high %d, medium %d, low %d, informational %d"
          % tuple(lv.get(k, 0) for k in ("critical", "high", "medium", "low", "informational"))
          in err, "the summary's levels match the rows")
    check_html(html, rows)
    r = scan("-r", SIGMA_SEC, "-r", rdir, "-f", "jsonl", "-q", EVTX)
    check(r.returncode == 0, "scan -f jsonl exits 0 (%d)" % r.returncode)
    check_jsonl(r.stdout.decode(), rows)

    # The file column: the file with most of the test rule's rows, scanned
    # alone, gives exactly the rows the whole scan attributed to it.
    mine = [x for x in rows if x["rule_title"] == HOSTILE_TITLE]
    top = Counter(x["file"] for x in mine).most_common(1)[0][0]
    check(rule_rows_alone(top, rdir) == Counter(x["record_id"] for x in mine
                                                if x["file"] == top),
          "the rows attributed to %s are the ones it gives alone" % os.path.basename(top))

    # --from (RFC 3339 with an offset) and --to (a date: that whole day in),
    # with a 64 KiB sort budget so the rows go through the external merge.
    times = sorted(when(x["time"]) for x in rows)
    lo = times[len(times) // 10]
    hi_day = times[len(times) * 9 // 10].date()
    lo_text = (lo + timedelta(hours=2)).replace(tzinfo=timezone(timedelta(hours=2)))
    lo_text = lo_text.isoformat(timespec="microseconds")
    summ2 = os.path.join(tmp, "summary2.json")
    r = scan("-r", SIGMA_SEC, "-r", rdir, "-f", "csv", "-q", "--summary-json", summ2,
             "--sort-memory", "65536", "--from", lo_text, "--to", hi_day.isoformat(), EVTX)
    s2 = json.load(open(summ2))
    end = datetime(hi_day.year, hi_day.month, hi_day.day, tzinfo=timezone.utc) + timedelta(1)
    want = [x for x in rows if lo <= when(x["time"]) < end]
    got = list(csv.DictReader(io.StringIO(r.stdout.decode())))
    check(r.returncode == 0 and b"alerts by level" not in r.stderr and
          b"hosts by" not in r.stderr, "-q: no summary on stderr")
    check(s2["sort_runs"] > 1, "a 64 KiB budget sorts through %d runs" % s2["sort_runs"])
    check(0 < len(got) < len(rows) and got == want,
          "--from %s --to %s: exactly the %d rows in range, in the same order"
          % (lo_text, hi_day, len(want)))
    check(s2["alerts_out_of_range"] == len(rows) - len(want),
          "the summary counts the %d alerts out of range" % (len(rows) - len(want)))

    missing = os.path.join(tmp, "no-such-rules")
    r = scan("-r", missing, EVTX)
    check(r.returncode == 1 and missing.encode() in r.stderr and r.stdout == b"",
          "-r naming a path that does not exist ends the scan, naming it")
    r = scan("--from", "yesterday", EVTX)
    check(r.returncode == 2 and b"--from yesterday" in r.stderr,
          "a --from that is no time is a usage error naming it")
    shutil.rmtree(tmp)
    finish()


if __name__ == "__main__":
    main()
