"""End to end for event time with `hikeshi scan --store`: Suricata EVE
relayed in syslog lines (the real wrccdc-2017 alerts) keeps its own
timestamp and pulls the yearless syslog lines beside it to its year; a
year-old OpenSSH file keeps its year; Apache error logs keep theirs; a
file across New Year moves on; an IANA zone (Europe/Berlin) applies to
zoneless times.  Expected instants are computed here in Python from the
records' own text, independently of hikeshi."""

import calendar
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, SOURCE, check, finish  # noqa: E402

EVE = os.path.join(SHARED, "data/network/suricata-sample-data/samples/wrccdc-2017/alerts-only.json")
OPENSSH = os.path.join(SHARED, "data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log")
APACHE = os.path.join(SHARED, "data/linux-logs/loghub/Apache/Apache_2k.log")


def scan(tmp, name, paths, config=None):
    """Scans `paths` into a fresh store; returns [(time_us, decoder, raw)]."""
    store = os.path.join(tmp, name)
    args = [os.path.abspath(BIN), "scan", "--no-progress", "-q", "--no-detect", "--store", store]
    if config:
        args += ["-c", config]
    r = subprocess.run(args + paths, capture_output=True, timeout=300, cwd=SOURCE)
    check(r.returncode == 0, "%s: scan exits 0%s" % (
        name, "" if r.returncode == 0 else " (%s)" % r.stderr.decode()[-300:]))
    db = sqlite3.connect(os.path.join(store, "hikeshi.db"))
    rows = db.execute("SELECT time_us, decoder, raw FROM events ORDER BY id").fetchall()
    db.close()
    return [(t, d, bytes(raw).decode("utf-8", "replace")) for t, d, raw in rows]


def eve_us(ts):
    """Microseconds of an EVE timestamp such as 2017-03-25T16:49:58.856335-0600."""
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(d.timestamp()) * 1000000 + d.microsecond


def year(us):
    return datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc).year


def set_mtime(path, y, mo, d, h=0, mi=0):
    t = calendar.timegm((y, mo, d, h, mi, 0))
    os.utime(path, (t, t))


def eve_in_syslog(tmp):
    """Each EVE alert relayed by a syslog daemon on "Dec  6" (no year), and
    every tenth one followed by a yearless sshd line one second after it."""
    alerts = json.load(open(EVE))
    path = os.path.join(tmp, "eve-syslog.log")
    want = []
    with open(path, "w") as out:
        for i, e in enumerate(alerts):
            out.write("<134>Dec  6 20:%02d:%02d sensor suricata[4242]: %s\n" % (
                i // 60 % 60, i % 60, json.dumps(e, separators=(",", ":"))))
            want.append(("json", eve_us(e["timestamp"])))
            if i % 10 == 0:
                t = eve_us(e["timestamp"]) // 1000000 * 1000000 + 1000000
                u = datetime.datetime.fromtimestamp(t // 1000000, datetime.timezone.utc)
                out.write("%s %2d %s sensor sshd[77]: Failed password for invalid user admin "
                          "from %s port 4242 ssh2\n" % (u.strftime("%b"), u.day,
                                                        u.strftime("%H:%M:%S"), e["src_ip"]))
                want.append(("sshd", t))
    return path, want


def main():
    for p in (EVE, OPENSSH, APACHE):
        if not check(os.path.exists(p), "sample present: " + p):
            finish()
    tmp = tempfile.mkdtemp(prefix="hikeshi-time-")

    # EVE through syslog: the EVE time, and its year for the yearless lines,
    # although the file was written years later (its mtime is now).
    path, want = eve_in_syslog(tmp)
    rows = scan(tmp, "eve", [path])
    check(len(rows) == len(want), "eve: every line stored (%d of %d)" % (len(rows), len(want)))
    bad = [(r, w) for r, w in zip(rows, want) if (r[1], r[0]) != w]
    check(not bad, "eve: each record has its own time, each sshd line the EVE year (%d wrong%s)"
          % (len(bad), ", first: %r" % (bad[0],) if bad else ""))
    years = {year(r[0]) for r in rows}
    check(years == {2017}, "eve: one stream, one year (%s)" % sorted(years))

    # A year-old OpenSSH file (mtime 2025-03-01): its Dec 10 is 2024's.
    ssh = os.path.join(tmp, "OpenSSH_2k.log")
    shutil.copy(OPENSSH, ssh)
    set_mtime(ssh, 2025, 3, 1)
    rows = scan(tmp, "ssh", [ssh])
    years = {year(r[0]) for r in rows}
    check(len(rows) == 2000 and years == {2024},
          "OpenSSH (mtime 2025-03-01): 2000 events, all in 2024 (%s)" % sorted(years))
    first = calendar.timegm((2024, 12, 10, 6, 55, 46)) * 1000000
    check(rows and rows[0][0] == first, "OpenSSH: first line is 2024-12-10T06:55:46Z")

    # Apache error logs carry their own year.
    rows = scan(tmp, "apache", [APACHE])
    years = {year(r[0]) for r in rows}
    check(len(rows) == 2000 and years == {2005}, "Apache: all 2000 events in 2005 (%s)" %
          sorted(years))

    # Across New Year, written at 00:10 on Jan 1.
    ny = os.path.join(tmp, "newyear.log")
    with open(ny, "w") as f:
        f.write("Dec 31 23:59:58 h sshd[1]: Failed password for root from 10.0.0.1 port 1 ssh2\n")
        f.write("Jan  1 00:00:02 h sshd[1]: Failed password for root from 10.0.0.1 port 2 ssh2\n")
    set_mtime(ny, 2026, 1, 1, 0, 10)
    rows = scan(tmp, "newyear", [ny])
    got = [r[0] // 1000000 for r in rows]
    check(got == [calendar.timegm((2025, 12, 31, 23, 59, 58)),
                  calendar.timegm((2026, 1, 1, 0, 0, 2))],
          "New Year: Dec 31 in 2025, Jan 1 in 2026 (%s)" % got)

    # timezone: Europe/Berlin, summer and winter of one file.
    conf = os.path.join(tmp, "berlin.yaml")
    with open(conf, "w") as f:
        f.write("timezone: Europe/Berlin\n")
    be = os.path.join(tmp, "berlin.log")
    with open(be, "w") as f:
        f.write("Jan 15 12:00:00 h sshd[1]: winter\nJul  1 12:00:00 h sshd[1]: summer\n")
    set_mtime(be, 2025, 8, 1)
    rows = scan(tmp, "berlin", [be], conf)
    got = [r[0] // 1000000 for r in rows]
    check(got == [calendar.timegm((2025, 1, 15, 11, 0, 0)),
                  calendar.timegm((2025, 7, 1, 10, 0, 0))],
          "Europe/Berlin: 12:00 is 11:00Z in January, 10:00Z in July (%s)" % got)

    # A zone that does not exist is refused with its place in the file.
    with open(conf, "w") as f:
        f.write("timezone: Europe/Berln\n")
    r = subprocess.run([os.path.abspath(BIN), "run", "-n", "-c", conf], capture_output=True,
                       timeout=60, cwd=SOURCE)
    check(r.returncode == 2 and (conf + ":1:11:").encode() in r.stderr,
          "bad zone refused as FILE:1:11 (%s)" % r.stderr.decode()[-200:])
    shutil.rmtree(tmp)
    finish()


if __name__ == "__main__":
    main()
