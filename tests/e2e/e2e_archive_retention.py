"""Archive retention with signed tombstones (issue 17), on the real binary.

A sealing daemon with 1 MiB segments and archive.retention.max_age: 3s
(checked every second) receives numbered, poorly compressible lines over
TCP.  Once every line is processed and three seconds have passed:
  - the daemon's tick removed closed segments (its log says so), each
    left a tombstone, the open (last) segment stays;
  - `hikeshi archive verify` passes and reports the removal: segments,
    record numbers, signing epoch; every line is still counted;
  - `hikeshi archive cat` starts at the first record retention kept, and
    `hikeshi hunt` finds kept records, not removed ones, without error.
Then, stopped, `hikeshi archive prune` by max_size:
  - with the store's cursor moved back (records not processed), it
    removes nothing and says why;
  - with the cursor at the end, it removes all but the open segment, and
    verify still passes.
Tampering, each on a copy of the archive: a segment deleted by hand
(no tombstone) and a flipped byte in a tombstone are each named by verify.
"""

import base64
import json
import os
import pwd
import re
import shutil
import socket
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, wait_for  # noqa: E402

NLINES = 24000  # the first run's lines, which max_age: 3s removes
TOTAL = 2 * NLINES  # with the second run's, kept

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
archive:
  key: KEYS/archive.key
  seal_records: 1000
  segment_size: 1m
  retention:
    max_age: 3s
    interval: 1s
"""


def line(n):
    # 150 base64 characters of random bytes: zstd barely shrinks them, so a
    # few thousand lines fill a 1 MiB segment.
    noise = base64.b64encode(os.urandom(112)).decode()
    return ("<14>Oct 11 22:14:15 web1 app[77]: n%06d %s\n" % (n, noise)).encode()


def health(d):
    return json.loads(d.get("/api/v1/health")[2])


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120)


def listing(archive):
    return sorted(os.listdir(archive))


def set_cursor(d, value):
    con = sqlite3.connect(os.path.join(d.data, "hikeshi.db"))
    con.execute("UPDATE counters SET value = ? WHERE name = 'archive.cursor'", (value,))
    con.commit()
    con.close()


def set_retention(d, text):
    with open(d.conf) as f:
        conf = f.read()
    conf = re.sub(r"  retention:\n(    .*\n)+", "  retention:\n" + text, conf)
    with open(d.conf, "w") as f:
        f.write(conf)


def main():
    d = Daemon(CONFIG)
    keys = os.path.join(d.dir, "keys")
    os.mkdir(keys, 0o700)
    if os.geteuid() == 0:
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
        os.chown(keys, who.pw_uid, who.pw_gid)
    with open(d.conf) as f:
        text = f.read().replace("KEYS", keys)
    with open(d.conf, "w") as f:
        f.write(text)
    r = run("archive", "keygen", "-c", d.conf)
    check(r.returncode == 0, "archive keygen: %s" % (r.stdout + r.stderr).strip()[:200])
    d.start()
    archive = os.path.join(d.data, "archive")
    s = socket.create_connection(("127.0.0.1", d.port))
    for start in range(0, NLINES, 1000):
        s.sendall(b"".join(line(n) for n in range(start, start + 1000)))
    s.close()
    check(wait_for(lambda: health(d)["archive"]["cursor"] == NLINES, timeout=90),
          "all %d lines archived and processed" % NLINES)
    check(wait_for(lambda: "retention removed" in d.read_log(), timeout=30),
          "the daemon's tick applied max_age")
    # Listed once the daemon has stopped: a later tick of the running
    # daemon may still remove segments (on a slow machine, under ASan).
    check(d.stop() == 0, "the daemon stops cleanly")
    files = listing(archive)
    segs = [f for f in files if f.endswith(".hka")]
    tombs = [f for f in files if f.endswith(".hkt")]
    check("seg-0000000000000000.hka" not in files and "tomb-0000000000000000.hkt" in files,
          "segment 0 replaced by its tombstone (%s)" % files)
    check(len(segs) >= 1 and len(tombs) >= 1, "segments and tombstones: %s" % files)

    # A second run whose max_age retention never reaches adds closed
    # segments that stay, for the checks below that need two or more: on a
    # slow machine every closed segment of the first run may be older than
    # 3 s by the time its last line is processed, and all of them go.
    set_retention(d, "    max_age: 1000d\n    interval: 1s\n")
    d.start()
    s = socket.create_connection(("127.0.0.1", d.port))
    for start in range(NLINES, TOTAL, 1000):
        s.sendall(b"".join(line(n) for n in range(start, start + 1000)))
    s.close()
    check(wait_for(lambda: health(d)["archive"]["cursor"] == TOTAL, timeout=90),
          "second run: all %d lines archived and processed" % TOTAL)
    check(d.stop() == 0, "second run: the daemon stops cleanly")

    r = run("archive", "verify", "-c", d.conf)
    out = r.stdout + r.stderr
    check(r.returncode == 0, "verify passes after the daemon's retention: %s" % out[:400])
    m = re.search(r"(\d+) segments removed by retention \(records 0-(\d+), .*\), tombstones "
                  r"signed by epoch (\d+)", out)
    check(m is not None and int(m.group(1)) == len(tombs),
          "verify reports the removal, its records and epoch: %s" % out[:400])
    last_removed = int(m.group(2)) if m else -1
    r = run("archive", "verify", "-c", d.conf, "--json")
    v = json.loads(r.stdout or "{}")
    check(v.get("records") == TOTAL and v.get("removed", {}).get("records") == last_removed + 1,
          "verify counts every line, %d of them removed (%s)" % (last_removed + 1, r.stdout[:300]))

    r = run("archive", "cat", "-c", d.conf)
    first = r.stdout.split("\n", 1)[0]
    check(r.returncode == 0 and (" n%06d " % (last_removed + 1)) in first,
          "cat starts at the first kept record n%06d: %r" % (last_removed + 1, first[:80]))

    # The hunt reads the segments that are left: a kept line is found, a
    # removed one is not, and neither is an error.
    r = run("hunt", "-c", d.conf, "-f", "jsonl", "n%06d" % (last_removed + 1))
    check(r.returncode == 0 and r.stdout.count("\n") == 1
          and ("n%06d" % (last_removed + 1)) in r.stdout,
          "hunt finds the first kept record: %s" % (r.stdout + r.stderr).strip()[:300])
    r = run("hunt", "-c", d.conf, "-f", "jsonl", "n%06d" % last_removed)
    check(r.returncode == 0 and r.stdout.strip() == "",
          "hunt finds nothing of a removed record, without error: %s"
          % (r.stdout + r.stderr).strip()[:300])

    # Tampering, each on a copy.
    remaining = sorted(f for f in listing(archive) if f.endswith(".hka"))
    if len(remaining) >= 2:
        cp = os.path.join(d.dir, "tamper-seg")
        shutil.copytree(archive, cp)
        os.unlink(os.path.join(cp, remaining[0]))
        r = run("archive", "verify", "-c", d.conf, "--dir", cp)
        check(r.returncode == 1 and remaining[0] in r.stdout and "no tombstone" in r.stdout,
              "a segment deleted by hand is named: %s" % r.stdout.strip()[:300])
    else:
        check(False, "the test needs two kept segments (%s)" % remaining)
    cp = os.path.join(d.dir, "tamper-tomb")
    shutil.copytree(archive, cp)
    with open(os.path.join(cp, "tomb-0000000000000000.hkt"), "r+b") as f:
        f.seek(44)
        b = f.read(1)
        f.seek(44)
        f.write(bytes([b[0] ^ 0x01]))
    r = run("archive", "verify", "-c", d.conf, "--dir", cp)
    check(r.returncode == 1 and "tomb-0000000000000000.hkt" in r.stdout
          and "bad tombstone" in r.stdout,
          "a flipped byte in a tombstone is named: %s" % r.stdout.strip()[:300])

    # By size, from the command line: the cursor holds back what the
    # pipeline has not processed.
    set_retention(d, "    max_size: 1m\n")
    set_cursor(d, last_removed + 2)
    before = listing(archive)
    r = run("archive", "prune", "-c", d.conf)
    check(r.returncode == 0 and listing(archive) == before and "not processed" in r.stdout,
          "prune keeps records past the cursor: %s" % (r.stdout + r.stderr).strip()[:300])
    set_cursor(d, TOTAL)
    r = run("archive", "prune", "-c", d.conf, "--dry-run")
    check(r.returncode == 0 and listing(archive) == before and "would remove" in r.stdout,
          "--dry-run removes nothing: %s" % r.stdout.strip()[:300])
    r = run("archive", "prune", "-c", d.conf)
    after = listing(archive)
    check(r.returncode == 0 and "removed" in r.stdout
          and len([f for f in after if f.endswith(".hka")]) == 1,
          "prune by max_size leaves only the open segment: %s %s" % (r.stdout.strip()[:200],
                                                                       after))
    r = run("archive", "verify", "-c", d.conf)
    check(r.returncode == 0 and "segments removed by retention" in r.stdout,
          "verify passes after prune: %s" % (r.stdout + r.stderr).strip()[:300])
    if finish() == 0:
        shutil.rmtree(d.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
