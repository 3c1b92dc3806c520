"""Retention per input (issue 17, docs/archive.md "Retention per input"), on
the real binary.

A sealing daemon with 1 MiB segments has two TCP inputs, `short` and
`long`; archive.retention keeps records 1000 days, and
archive.retention.inputs gives `short` a max_age of 3 s.  It first receives
20,000 numbered, poorly compressible lines on `short` alone, then 8 rounds
of 1,000 on `short` and 1,000 on `long` (mixed segments).  Then:
  - the daemon's tick removed the segments holding only `short`'s old
    records, each leaving a tombstone, and said that `long` keeps the rest;
  - every line of `long` is still there, and every line of `short` that
    shares a segment with one (a segment goes only when every input in it
    lets it go): only segments of `short`'s lines alone were removed;
  - `archive verify` passes and reports the removal, tombstones signed.
Stopped, with `long` given max_size: 1m, `archive prune` removes the oldest
mixed segments until `long`'s records left weigh at most 1 MiB (and more
than nothing), and verify still passes.
"""

import base64
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, free_port, wait_for  # noqa: E402

ALONE = 20000  # lines on `short` alone
ROUNDS = 8  # then this many rounds of 1000 `short` and 1000 `long`
TOTAL = ALONE + ROUNDS * 2000

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: short
    type: syslog-tcp
    listen: 127.0.0.1:{port}
  - name: long
    type: syslog-tcp
    listen: 127.0.0.1:LONGPORT
archive:
  key: KEYS/archive.key
  seal_records: 1000
  segment_size: 1m
  retention:
    max_age: 1000d
    interval: 1s
    inputs:
      short:
        max_age: 3s
"""


def line(n, tag):
    noise = base64.b64encode(os.urandom(112)).decode()
    return ("<14>Oct 11 22:14:15 web1 app[77]: %s n%06d %s\n" % (tag, n, noise)).encode()


def send(port, start, n, tag):
    s = socket.create_connection(("127.0.0.1", port))
    for a in range(start, start + n, 1000):
        s.sendall(b"".join(line(i, tag) for i in range(a, min(a + 1000, start + n))))
    s.close()


def health(d):
    return json.loads(d.get("/api/v1/health")[2])


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=180)


def records(d):
    """(input, number, raw length) of every record the archive holds."""
    r = run("archive", "cat", "-c", d.conf, "-f", "jsonl")
    out = []
    for ln in r.stdout.splitlines():
        o = json.loads(ln)
        m = re.search(r" (short|long) n(\d{6}) ", o["raw"])
        out.append((o["input"], int(m.group(2)) if m else -1, len(o["raw"])))
    return out


def main():
    long_port = free_port()
    d = Daemon(CONFIG.replace("LONGPORT", str(long_port)))
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
    send(d.port, 0, ALONE, "short")
    check(wait_for(lambda: health(d)["archive"]["cursor"] == ALONE, timeout=90),
          "the %d lines of `short` alone archived and processed" % ALONE)
    for k in range(ROUNDS):
        send(d.port, ALONE + k * 1000, 1000, "short")
        check(wait_for(lambda k=k: health(d)["archive"]["cursor"] == ALONE + k * 2000 + 1000,
                       timeout=60), "round %d: `short` processed" % k)
        send(long_port, k * 1000, 1000, "long")
        check(wait_for(lambda k=k: health(d)["archive"]["cursor"] == ALONE + k * 2000 + 2000,
                       timeout=60), "round %d: `long` processed" % k)
    check(wait_for(lambda: "retention removed" in d.read_log(), timeout=30),
          "the daemon's tick removed segments by `short`'s max_age")
    check(wait_for(lambda: "retention keeps segments for input long's retention"
                   in d.read_log(), timeout=30),
          "the log says `long` keeps the mixed segments")
    time.sleep(4)  # past `short`'s 3 s for every line, and a few more ticks
    check(d.stop() == 0, "the daemon stops cleanly")

    r = run("archive", "verify", "-c", d.conf, "--json")
    v = json.loads(r.stdout or "{}")
    removed = v.get("removed", {})
    check(r.returncode == 0 and v.get("records") == TOTAL and removed.get("segments", 0) >= 1
          and removed.get("epoch_min") is not None and removed.get("unsigned") == 0,
          "verify passes, counts every line and reports signed tombstones: %s" % r.stdout[:400])
    kept = records(d)
    first_kept = TOTAL - len(kept)
    check(first_kept == removed.get("last_record", -2) + 1,
          "the archive holds the records after the removed ones (%d)" % first_kept)
    # Records are numbered in arrival order: `short` alone, then each round
    # `short`'s 1000 and `long`'s 1000, so the first of `long` is ALONE +
    # 1000.  Where the segments were cut depends on how the input pushed
    # its batches; a segment goes only when every input in it lets it go,
    # so the removed ones end before that record (a segment of round 0's
    # `short` lines alone may go with them).
    check(0 < first_kept <= ALONE + 1000,
          "only `short`'s records were removed, in segments without `long` (%d removed; the "
          "first of `long` is %d)" % (first_kept, ALONE + 1000))
    longs = sorted(n for i, n, _ in kept if i == "long" and n >= 0)
    check(longs == list(range(ROUNDS * 1000)),
          "every line of `long` is kept (%d of %d)" % (len(longs), ROUNDS * 1000))
    mixed = sorted((i, n) for i, n, _ in kept if n >= 0 and
                   ((i == "short" and n >= ALONE) or i == "long"))
    check(len(mixed) == ROUNDS * 2000 - max(0, first_kept - ALONE),
          "every line of the mixed phase after the removed segments is kept, `short`'s older "
          "than 3 s too (%d of %d)" % (len(mixed), ROUNDS * 2000))
    # The first kept segment holds a `long` record: the one before it did
    # not, or `long` would have kept it.
    segs = sorted(f for f in os.listdir(os.path.join(d.data, "archive")) if f.endswith(".hka"))
    tombs = sorted(f for f in os.listdir(os.path.join(d.data, "archive")) if f.endswith(".hkt"))
    check(len(tombs) == removed.get("segments") and len(segs) >= 3,
          "tombstones %s, segments %s" % (tombs, segs))

    # By size per input, from the command line.
    with open(d.conf) as f:
        conf = f.read()
    conf = conf.replace("      short:\n        max_age: 3s\n",
                        "      short:\n        max_age: 3s\n      long:\n        max_size: 1m\n")
    with open(d.conf, "w") as f:
        f.write(conf)
    long_before = sum(n for i, _, n in kept if i == "long")
    check(long_before > 1024 * 1024, "`long` holds %d bytes, over 1 MiB" % long_before)
    r = run("archive", "prune", "-c", d.conf)
    check(r.returncode == 0 and "removed" in r.stdout,
          "prune by `long`'s max_size removes segments: %s" % (r.stdout + r.stderr).strip()[:300])
    kept2 = records(d)
    long_after = sum(n for i, _, n in kept2 if i == "long")
    check(0 < long_after <= 1024 * 1024,
          "`long`'s records left weigh at most 1 MiB and more than nothing (%d)" % long_after)
    r = run("archive", "verify", "-c", d.conf, "--json")
    v2 = json.loads(r.stdout or "{}")
    check(r.returncode == 0 and v2.get("records") == TOTAL
          and v2["removed"]["segments"] > removed["segments"],
          "verify passes after the per-input size prune: %s" % r.stdout[:300])
    r = run("archive", "prune", "-c", d.conf)
    check(r.returncode == 0 and "nothing to remove" in r.stdout,
          "a second prune removes nothing more: %s" % r.stdout.strip()[:300])
    if finish() == 0:
        shutil.rmtree(d.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
