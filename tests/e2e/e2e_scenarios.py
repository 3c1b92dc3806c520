"""End to end for the shipped exercise scenarios (scenarios/*.yaml, issue
22, docs/exercise.md): the detections a scenario expects must be true.

Each scenario's records are expanded here from its templates, with this
file's own reading of the placeholders (independent of hikeshi's expander
in src/exercise/scenario.c), written to a file in send order and run
through `hikeshi scan` with the bundled rules.  Then:

  * every record decodes (a scenario speaks only formats hikeshi reads);
  * every `rule:` detection raises at least one alert at or before the
    scenario's start plus its `within` (the rule named by its Sigma id, by
    its `name:`, or an anomaly's id such as anomaly.beacon);
  * every `incident:` type is the type of an incident triage opened, and
    that incident's first alert comes before the deadline;
  * every `kill_chain:` stage is reached (or passed) by an incident.

A scenario that promises a detection the rules do not make fails here,
naming the scenario and what is missing."""

import calendar
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SOURCE, check, finish  # noqa: E402

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
          "Dec"]
TYPES = ["damage manifest", "intruded, no damage yet", "probe or attack without damage",
         "policy violation", "anomalous behaviour", "vulnerability present",
         "new system / organisation change", "complaints about rules"]
STAGES = ["recon", "weaponization", "delivery", "exploitation", "installation",
          "command and control", "actions on objectives"]
PLACEHOLDER = re.compile(r"\$\{([a-z0-9_]+)\}")


def seconds(v):
    """A scenario duration: a number and s, m, h or d; a bare number is seconds."""
    if isinstance(v, (int, float)):
        return int(v)
    m = re.fullmatch(r"(\d+)([smhd]?)", str(v).strip())
    if not m:
        raise ValueError("not a duration: %r" % v)
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def expand(tmpl, vars_, t_us, n):
    """The template with its vars and the time placeholders of the moment t_us."""
    sec = t_us // 1000000
    tm = time.gmtime(sec)

    def one(m):
        name = m.group(1)
        if name == "ts":
            return "%s %2d %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour,
                                              tm.tm_min, tm.tm_sec)
        if name == "iso":
            return time.strftime("%Y-%m-%dT%H:%M:%S", tm) + ".%06dZ" % (t_us % 1000000)
        if name == "clf":
            return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (
                tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year, tm.tm_hour, tm.tm_min,
                tm.tm_sec)
        if name == "epoch":
            return str(sec)
        if name == "n":
            return str(n)
        if name == "run":
            return "e2e"
        return vars_[name]

    return PLACEHOLDER.sub(one, tmpl)


def records(sc, base_us):
    """(time, line) of every record the scenario sends, in send order."""
    vars_ = {k: str(v) for k, v in (sc.get("vars") or {}).items()}
    out = []
    order = 0
    for st in sc["stages"]:
        st_at = seconds(st.get("at", 0))
        for rec in st.get("records") or []:
            at = st_at + seconds(rec.get("at", 0))
            every = seconds(rec.get("every", 0))
            for n in range(1, int(rec.get("repeat", 1)) + 1):
                t = base_us + (at + (n - 1) * every) * 1000000
                out.append((t, order, n, expand(rec["text"], vars_, t, n)))
            order += 1
    out.sort(key=lambda r: (r[0], r[1], r[2]))
    return [(r[0], r[3]) for r in out]


def rule_ids():
    """Each name and id of the bundled rules -> the id alerts carry."""
    ids = {}
    for path in glob.glob(os.path.join(SOURCE, "rules", "*.yml")):
        for doc in yaml.safe_load_all(open(path)):
            if isinstance(doc, dict) and doc.get("id"):
                ids[doc["id"]] = doc["id"]
                if doc.get("name"):
                    ids[doc["name"]] = doc["id"]
    return ids


def canonical_type(v):
    """An incident type by its name or its first words, as scenario.c reads it."""
    v = v.lower()
    for t in TYPES:
        if t == v or (t.startswith(v) and t[len(v)] in " ,"):
            return t
    return None


def canonical_stage(v):
    v = v.lower()
    return {"c2": "command and control", "actions": "actions on objectives"}.get(v, v)


def iso_us(s):
    """'2026-12-07T08:14:15.000000Z' -> microseconds since the epoch."""
    main, frac = s.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S")) * 1000000 + int(
        frac.ljust(6, "0")[:6])


def main():
    tmp = tempfile.mkdtemp(prefix="hikeshi-scenarios-")
    ids = rule_ids()
    # Two days ago, on the minute: the records' RFC 3164 times carry no
    # year, and a time in the past within the year reads back unchanged.
    base_us = (int(time.time()) // 60 * 60 - 2 * 86400) * 1000000
    files = sorted(glob.glob(os.path.join(SOURCE, "scenarios", "*.yaml")))
    check(len(files) >= 8, "the tiny scenario and the seven of MISSION.md section 8 are shipped "
          "(%d files)" % len(files))
    for path in files:
        sc = yaml.safe_load(open(path))
        name = sc["scenario"]
        recs = records(sc, base_us)
        log = os.path.join(tmp, name + ".log")
        with open(log, "w") as f:
            for _, line in recs:
                f.write(line + "\n")
        summ = os.path.join(tmp, name + ".summary.json")
        alerts_path = os.path.join(tmp, name + ".jsonl")
        inc_path = os.path.join(tmp, name + ".incidents.jsonl")
        r = subprocess.run([os.path.abspath(BIN), "scan", "--no-progress", "-q", "-r", "rules",
                            "-f", "jsonl", "-o", alerts_path, "--summary-json", summ,
                            "--incidents", inc_path, log],
                           capture_output=True, timeout=600, cwd=SOURCE)
        if not check(r.returncode == 0, "%s: scan exits 0 (%s)" % (name, r.stderr.decode()[-300:])):
            continue
        s = json.load(open(summ))
        check(s["records"] == len(recs) and s["decoded"] == len(recs) and s["unparsed"] == 0
              and s["malformed"] == 0,
              "%s: all %d records decode (decoded %d, unparsed %d, malformed %d)" %
              (name, len(recs), s["decoded"], s["unparsed"], s["malformed"]))
        alerts = [json.loads(l) for l in open(alerts_path)]
        incidents = [json.loads(l) for l in open(inc_path)] if os.path.exists(inc_path) else []
        detections = (sc.get("expect") or {}).get("detections") or []
        check(len(detections) > 0, "%s: expects detections" % name)
        for det in detections:
            within = seconds(det["within"]) if "within" in det else None
            deadline = base_us + within * 1000000 if within is not None else None
            if "rule" in det:
                want = ids.get(det["rule"], det["rule"])
                times = [iso_us(a["@timestamp"]) for a in alerts if a["rule"]["id"] == want]
                first = min(times) if times else None
                check(first is not None and (deadline is None or first <= deadline),
                      "%s: rule %s fires%s (%d alerts, first at %s s)" %
                      (name, det["rule"], " within %s" % det["within"] if within else "",
                       len(times), (first - base_us) // 1000000 if first else "-"))
            elif "incident" in det:
                want = canonical_type(det["incident"])
                got = [i for i in incidents if i["type"] == want]
                first = min((iso_us(i["first"]) for i in got), default=None)
                check(first is not None and (deadline is None or first <= deadline),
                      "%s: an incident of type %s opens%s (types: %s)" %
                      (name, want, " within %s" % det["within"] if within else "",
                       sorted(set(i["type"] for i in incidents))))
            elif "kill_chain" in det:
                want = canonical_stage(det["kill_chain"])
                reached = [i["stage"] for i in incidents if i["stage"] in STAGES and
                           STAGES.index(i["stage"]) >= STAGES.index(want)]
                check(len(reached) > 0, "%s: an incident reaches the %s stage (stages: %s)" %
                      (name, want, sorted(set(i["stage"] for i in incidents))))
    finish()


if __name__ == "__main__":
    main()
