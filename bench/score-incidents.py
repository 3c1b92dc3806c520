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

Beyond the generator's truth (tests/eval/README.md):
  - an attack may name its primary entity in "match" (field -> value);
    without it, network attacks use source.ip, or source.domain when the
    log names the remote host only by its name;
  - a truth line with "dont_care": true marks activity nobody can call an
    incident or not (a sampled IDS alert, three failed logins): an
    incident that names its "ip" (any field of the incident's key or its
    victims) within its time is neither counted for nor against precision;
  - --min-precision P: exit 0 when recall is 1, precision >= P, every
    found attack has the right type and one incident per attack (no
    duplicates, no incident standing for two attacks), instead of the
    strict default (no unmatched incident at all).

Also prints incidents per attack (matched incidents over attacks found,
and the most for one attack).

usage: score-incidents.py TRUTH INCIDENTS [--json] [--min-precision P]
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
    if "match" in attack:
        return dict(attack["match"])
    if attack["type"] == "sudo_abuse":
        return {"user.name": e["user.name"], "host.name": e.get("host.name")}
    if attack["type"] == "beacon":
        # One host may beacon to two C2 addresses: the destination tells
        # the attacks apart (the incident lists it as a victim).
        return {"source.ip": e["source.ip"], "destination.ip": e["destination.ip"]}
    if "source.ip" not in e and "source.domain" in e:
        return {"source.domain": e["source.domain"]}
    return {"source.ip": e["source.ip"]}


def overlaps(attack, inc):
    lo, hi = ts(attack["first"]) - SLACK, ts(attack["last"]) + SLACK
    return ts(inc["first"]) <= hi and ts(inc["last"]) >= lo


def names(inc, value):
    """Whether the incident's key or its victims name VALUE in any field."""
    if value in parse_key(inc["entity"]).values():
        return True
    for v in inc.get("victims", "").split(", "):
        if v.partition("=")[2] == value:
            return True
    return False


def dont_care(entry, inc):
    return all(names(inc, v) for v in entry["entity"].values()) and overlaps(entry, inc)


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
        if k == "source.domain":
            # a name may land in another field of the key (source.address)
            if not names(inc, v):
                return False
            continue
        if key.get(k) != v:
            return False
    return overlaps(attack, inc)


def main():
    argv = sys.argv[1:]
    min_precision = None
    if "--min-precision" in argv:
        i = argv.index("--min-precision")
        try:
            min_precision = float(argv[i + 1])
        except (IndexError, ValueError):
            print("--min-precision needs a number", file=sys.stderr)
            return 2
        del argv[i:i + 2]
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    attacks, unknown = [], []
    with open(args[0]) as f:
        for line in f:
            o = json.loads(line)
            if o.get("dont_care") is True and not o.get("summary"):
                unknown.append(o)
            elif not o.get("summary"):
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
    ignored = [i for i in fp if any(dont_care(u, i) for u in unknown)]
    fp = [i for i in fp if i not in ignored]
    merged = {k: v for k, v in claims.items() if len(v) > 1}
    n = len(attacks)
    found = sum(t["found"] for t in by_type.values())
    typed = sum(t["typed"] for t in by_type.values())
    scored = len(incs) - len(ignored)
    precision = (scored - len(fp)) / scored if scored else 1.0
    recall = found / n if n else 1.0
    per_attack = (scored - len(fp)) / found if found else 0.0
    most = max((sum(1 for i in incs if matches(a, i)) for a in attacks), default=0)
    print("%-24s %7s %6s %6s %5s" % ("type", "attacks", "found", "typed", "dups"))
    for k in sorted(by_type):
        t = by_type[k]
        print("%-24s %7d %6d %6d %5d" % (k, t["attacks"], t["found"], t["typed"], t["dups"]))
    print("incidents %d, matched %d, unmatched %d, don't care %d" % (
        len(incs), scored - len(fp), len(fp), len(ignored)))
    print("precision %.3f  recall %.3f  right type %d/%d  incidents per attack %.2f (most %d)" % (
        precision, recall, typed, n, per_attack, most))
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
                          "dont_care": len(ignored), "incidents_per_attack": per_attack,
                          "most_per_attack": most, "precision": precision, "recall": recall}))
    if min_precision is not None:
        ok = (not missed and not wrong and not dup and not merged and
              precision >= min_precision)
    else:
        ok = not missed and not wrong and not dup and not fp and not merged
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
