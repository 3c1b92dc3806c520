#!/usr/bin/env python3
"""Scores the incidents of `hikeshi scan --incidents FILE` against the
ground truth of `hikeshi-gen --truth FILE`.

An incident matches an attack when its entity names the attack's primary
entity (source.ip for network attacks, with the C2 address among the
victims for beaconing; user.name for sudo abuse, with the host in its key
or among its victims) and its time span overlaps the attack's
[first, last] widened by SLACK seconds.  Each attack should be matched by
exactly one incident of its expected type, and each incident should stand
for one attack; an incident that matches no attack is a false positive.

Prints per attack type: attacks, found, found with the right type,
duplicates; then precision, recall, type accuracy, and the unmatched
incidents and missed attacks by name.  Exit 0 when every attack is found
once with its type and no incident is unmatched, else 1 (2 on usage).

usage: score-incidents.py TRUTH INCIDENTS [--json]
"""
import datetime
import json
import sys

SLACK = 3600


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def parse_key(key):
    out = {}
    for part in key.split("|"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def primary(attack):
    e = attack["entity"]
    if attack["type"] == "sudo_abuse":
        return {"user.name": e["user.name"], "host.name": e.get("host.name")}
    if attack["type"] == "beacon":
        # One host may beacon to two C2 addresses: the destination tells
        # the attacks apart (the incident lists it as a victim).
        return {"source.ip": e["source.ip"], "destination.ip": e["destination.ip"]}
    return {"source.ip": e["source.ip"]}


def matches(attack, inc):
    key = parse_key(inc["entity"])
    want = primary(attack)
    for k, v in want.items():
        if v is None:
            continue
        if k in ("host.name", "destination.ip") and k not in key:
            # the incident may carry it as a victim instead
            if (k + "=" + str(v)) not in inc.get("victims", "").split(", "):
                return False
            continue
        if key.get(k) != v:
            return False
    lo, hi = ts(attack["first"]) - SLACK, ts(attack["last"]) + SLACK
    return ts(inc["first"]) <= hi and ts(inc["last"]) >= lo


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    attacks = []
    with open(args[0]) as f:
        for line in f:
            o = json.loads(line)
            if not o.get("summary"):
                attacks.append(o)
    incs = []
    with open(args[1]) as f:
        for line in f:
            if line.strip():
                incs.append(json.loads(line))
    used = set()
    claims = {}
    by_type = {}
    missed, wrong, dup = [], [], []
    for a in attacks:
        t = by_type.setdefault(a["type"], {"attacks": 0, "found": 0, "typed": 0, "dups": 0})
        t["attacks"] += 1
        hits = [i for i in incs if matches(a, i)]
        for i in hits:
            used.add(i["id"])
            claims.setdefault(i["id"], []).append(a["id"])
        if not hits:
            missed.append(a)
            continue
        t["found"] += 1
        if len(hits) > 1:
            t["dups"] += 1
            dup.append((a, hits))
        if any(i["type"] == a["expected_incident_type"] for i in hits):
            t["typed"] += 1
        else:
            wrong.append((a, hits))
    fp = [i for i in incs if i["id"] not in used]
    merged = {k: v for k, v in claims.items() if len(v) > 1}
    n = len(attacks)
    found = sum(t["found"] for t in by_type.values())
    typed = sum(t["typed"] for t in by_type.values())
    precision = (len(incs) - len(fp)) / len(incs) if incs else 1.0
    recall = found / n if n else 1.0
    print("%-24s %7s %6s %6s %5s" % ("type", "attacks", "found", "typed", "dups"))
    for k in sorted(by_type):
        t = by_type[k]
        print("%-24s %7d %6d %6d %5d" % (k, t["attacks"], t["found"], t["typed"], t["dups"]))
    print("incidents %d, matched %d, unmatched %d" % (len(incs), len(incs) - len(fp), len(fp)))
    print("precision %.3f  recall %.3f  right type %d/%d" % (precision, recall, typed, n))
    for a in missed:
        print("missed: %s %s %s %s" % (a["id"], a["type"], json.dumps(a["entity"]), a["first"]))
    for a, hits in wrong:
        print("wrong type: %s %s expected %r, got %s" % (
            a["id"], a["type"], a["expected_incident_type"], [i["type"] for i in hits]))
    for a, hits in dup:
        print("duplicate: %s %s -> incidents %s" % (a["id"], a["type"], [i["id"] for i in hits]))
    for k, v in sorted(merged.items()):
        print("merged: incident #%d stands for attacks %s" % (k, ", ".join(v)))
    for i in fp:
        print("unmatched incident: #%d %s %s %s" % (i["id"], i["type"], i["entity"], i["first"]))
    if "--json" in sys.argv:
        print(json.dumps({"attacks": n, "incidents": len(incs), "found": found, "typed": typed,
                          "unmatched": len(fp), "duplicates": len(dup), "merged": len(merged),
                          "precision": precision, "recall": recall}))
    ok = not missed and not wrong and not dup and not fp and not merged
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
