#!/usr/bin/env python3
"""test-score.py SCORER - score-incidents.py judges what it says it judges:
an attack found once with its type passes; a missed attack, a second
incident for one attack, an incident for two attacks, a wrong type or an
unmatched incident fails the strict default; --min-precision lets through
unmatched incidents only down to that precision; an incident on a
"dont_care" entry counts neither way; a remote host known by name
(source.domain) matches whichever key field names it."""
import json
import os
import subprocess
import sys
import tempfile

SCORER = sys.argv[1]
PROBE = "probe or attack without damage"
FAILS = []


def attack(aid, ent, first, last, typ="ssh_bruteforce", exp=PROBE):
    return {"id": aid, "type": typ, "entity": ent, "first": first, "last": last,
            "expected_incident_type": exp}


def inc(iid, key, first, last, typ=PROBE, victims=""):
    return {"id": iid, "entity": key, "type": typ, "first": first, "last": last,
            "victims": victims}


def run(truth, incs, *opts):
    d = tempfile.mkdtemp()
    t, i = os.path.join(d, "t"), os.path.join(d, "i")
    with open(t, "w") as f:
        for x in truth:
            f.write(json.dumps(x) + "\n")
        f.write(json.dumps({"summary": True, "dont_care": 9}) + "\n")
    with open(i, "w") as f:
        for x in incs:
            f.write(json.dumps(x) + "\n")
    r = subprocess.run([sys.executable, SCORER, t, i, "--json"] + list(opts),
                       capture_output=True, text=True)
    return r.returncode, json.loads(r.stdout.strip().splitlines()[-1])


def expect(name, got, want):
    if got != want:
        FAILS.append("%s: got %r, want %r" % (name, got, want))


A = attack("a1", {"source.ip": "192.0.2.1", "host.name": "h"}, "2025-01-01T10:00:00Z",
           "2025-01-01T10:05:00Z")
B = attack("a2", {"source.domain": "bad.example", "host.name": "h"}, "2025-01-01T12:00:00Z",
           "2025-01-01T12:01:00Z")
DC = {"id": "d1", "dont_care": True, "entity": {"ip": "198.51.100.7"},
      "first": "2025-01-01T15:00:00Z", "last": "2025-01-01T15:00:00Z"}
IA = inc(1, "source.ip=192.0.2.1|host.name=h", "2025-01-01T10:01:00Z", "2025-01-01T10:04:00Z")
IB = inc(2, "source.address=bad.example", "2025-01-01T12:00:30Z", "2025-01-01T12:00:40Z")
IFP = inc(3, "source.ip=203.0.113.9", "2025-01-01T13:00:00Z", "2025-01-01T13:00:00Z")
IDC = inc(4, "destination.ip=10.0.0.1", "2025-01-01T15:10:00Z", "2025-01-01T15:10:00Z",
          victims="source.ip=198.51.100.7")
IWRONG_YEAR = inc(5, "source.ip=192.0.2.1|host.name=h", "2026-01-01T10:01:00Z",
                  "2026-01-01T10:04:00Z")

rc, s = run([A, B, DC], [IA, IB])
expect("all found once", (rc, s["recall"], s["precision"], s["typed"]), (0, 1.0, 1.0, 2))
rc, s = run([A, B], [IA])
expect("a missed attack", (rc, s["recall"]), (1, 0.5))
rc, s = run([A, B], [IA, IB, IFP])
expect("an unmatched incident (strict)", (rc, round(s["precision"], 3)), (1, 0.667))
rc, s = run([A, B], [IA, IB, IFP], "--min-precision", "0.6")
expect("an unmatched incident above --min-precision", rc, 0)
rc, s = run([A, B], [IA, IB, IFP], "--min-precision", "0.9")
expect("an unmatched incident below --min-precision", rc, 1)
rc, s = run([A, B, DC], [IA, IB, IDC])
expect("an incident on a don't-care entry", (rc, s["precision"], s["dont_care"]), (0, 1.0, 1))
rc, s = run([A, B], [IA, IB, IDC])
expect("the same incident without the don't-care entry", (rc, s["unmatched"]), (1, 1))
rc, s = run([A, B], [IA, dict(IA, id=6), IB], "--min-precision", "0.5")
expect("two incidents for one attack", (rc, s["duplicates"], s["most_per_attack"]), (1, 1, 2))
rc, s = run([A, B], [dict(IA, type="policy violation"), IB], "--min-precision", "0.5")
expect("the wrong type", (rc, s["typed"]), (1, 1))
rc, s = run([A, B], [IWRONG_YEAR, IB])
expect("the right entity a year off", (rc, s["found"], s["unmatched"]), (1, 1, 1))
A2 = attack("a3", {"source.ip": "192.0.2.1", "host.name": "h"}, "2025-01-01T10:30:00Z",
            "2025-01-01T10:40:00Z")
rc, s = run([A, A2, B], [IA, IB], "--min-precision", "0.5")
expect("one incident for two attacks", (rc, s["merged"]), (1, 1))

for f in FAILS:
    print("test-score.py: " + f, file=sys.stderr)
print("test-score.py: %s" % ("%d failed" % len(FAILS) if FAILS else "scorer checks pass"))
sys.exit(1 if FAILS else 0)
