#!/usr/bin/env python3
"""Labels the SSH brute forces in the loghub Linux_2k.log and OpenSSH_2k.log
samples (tests/eval/README.md, "How the real logs were labelled").

Run once by hand; its output, reviewed line by line, is committed as
tests/eval/truth/loghub.jsonl.  The evaluation reads that file, never this
script, so a change here changes nothing until someone reviews the new
labels and commits them.

The rule, applied per remote host (the address or name in rhost=, or the
address after "from" in OpenSSH's own lines):
  - failed authentications of one remote host form one episode until a
    pause of more than an hour;
  - an episode with 5 or more failed authentications is an SSH brute force
    (fail2ban's default maxretry); it must be found;
  - an episode with 1 to 4 failures is "don't care": a detector is neither
    credited nor blamed for an incident on it;
  - an accepted login from the same host during or within an hour after a
    brute-force episode would make it ssh_bruteforce_success (none occurs).

usage: label_loghub.py SHARED_DATA_DIR > tests/eval/truth/loghub.jsonl
"""
import collections
import datetime
import hashlib
import json
import re
import sys

GAP = 3600
MIN_FAILS = 5


def stamp(year, s):
    t = datetime.datetime.strptime("%d %s" % (year, s), "%Y %b %d %H:%M:%S")
    return t.replace(tzinfo=datetime.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_ip(s):
    return re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", s) is not None


def episodes(events):
    """events: [(time, line_no, n_failures, kind)], sorted. Splits on GAP."""
    out = []
    for e in events:
        if out and (e[0] - out[-1][-1][0]).total_seconds() <= GAP:
            out[-1].append(e)
        else:
            out.append([e])
    return out


def label(stream, path, year, host, rx_fail, rx_ok, pid_rx):
    raw = open(path, "rb").read()
    lines = raw.decode("latin-1").splitlines()
    per = collections.defaultdict(list)
    by_pid = collections.defaultdict(list)
    for n, line in enumerate(lines, 1):
        t = stamp(year, line[:15])
        pm = pid_rx.search(line)
        if pm:
            by_pid[pm[1]].append(n)
        for rx, kind in ((rx_fail, "fail"), (rx_ok, "ok")):
            m = rx.search(line)
            if m:
                k = m.groupdict().get("n")
                per[m["src"]].append((t, n, int(k) if k else 1, kind))
    out = []
    for src, evs in per.items():
        for ep in episodes(sorted(evs, key=lambda e: (e[0], e[1]))):
            fails = sum(e[2] for e in ep if e[3] == "fail")
            oks = [e for e in ep if e[3] == "ok"]
            if fails == 0:
                continue  # a login with no failure around it: a user
            ent = {"source.ip" if is_ip(src) else "source.domain": src, "host.name": host}
            first, last = ep[0], ep[-1]
            rec = {"stream": stream, "entity": ent, "first": iso(first[0]), "last": iso(last[0]),
                   "first_line": first[1], "last_line": last[1], "failures": fails,
                   "source": path.split("/data/", 1)[-1],
                   "source_sha256": hashlib.sha256(raw).hexdigest()}
            if fails >= MIN_FAILS:
                rec["type"] = "ssh_bruteforce_success" if oks else "ssh_bruteforce"
                rec["expected_incident_type"] = ("intruded, no damage yet" if oks
                                                 else "probe or attack without damage")
            else:
                rec["dont_care"] = True
                rec["why"] = "%d failed login(s): too few to call a brute force" % fails
            out.append(rec)
    return sorted(out, key=lambda r: r["first_line"])


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    d = sys.argv[1].rstrip("/")
    recs = []
    # Linux_2k: 2005 (ftpd lines say "Fri Jun 17 2005"); pam_unix lines
    # only, one per failed connection, with the remote host in rhost=.
    recs += label("loghub-linux.log", d + "/linux-logs/loghub/Linux/Linux_2k.log", 2005, "combo",
                  re.compile(r"sshd\(pam_unix\)\[\d+\]: authentication failure;.* rhost=(?P<src>\S+)"),
                  re.compile(r"sshd\[\d+\]: Accepted \S+ for \S+ from (?P<src>\S+)"),
                  re.compile(r"sshd\(pam_unix\)\[(\d+)\]"))
    # OpenSSH_2k: no year in the data; the corpus declares 2025 through
    # the file's modification time.  Count sshd's own "Failed" lines
    # ("message repeated N times" counts N), not the pam lines that
    # duplicate them.
    recs += label("loghub-openssh.log", d + "/linux-logs/loghub/OpenSSH/OpenSSH_2k.log", 2025,
                  "LabSZ",
                  re.compile(r"(?:message repeated (?P<n>\d+) times: \[ )?Failed \S+ for "
                             r"(?:invalid user )?\S* from (?P<src>[\d.]+)"),
                  re.compile(r"Accepted \S+ for \S+ from (?P<src>[\d.]+)"),
                  re.compile(r"sshd\[(\d+)\]"))
    n = 0
    for r in recs:
        if not r.get("dont_care"):
            n += 1
        r["id"] = ("L%d" % n) if not r.get("dont_care") else "L-dc%d" % (recs.index(r) + 1)
        print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
