"""End to end for the file input: follow a file, rotation by rename and by
truncation, and a restart while the file is being appended to and rotated:
no line lost, none doubled."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Daemon, check, finish, wait_for  # noqa: E402

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: app
    type: file
    path: {dir}/app.log
    from_start: true
    poll_ms: 50
"""


def line(tag, i):
    return "Nov 23 12:00:00 filehost app[1]: %s-%06d\n" % (tag, i)


def append(path, tag, rng):
    with open(path, "a") as f:
        for i in rng:
            f.write(line(tag, i))


def processed(d):
    _, _, text = d.get("/metrics")
    return d.metric(text, "hikeshi_pipeline_records_total", 'input="app"') or 0


def stored_tags(d, tag):
    out = []
    for e in d.events():
        raw = bytes(e["raw"]).decode(errors="replace")
        k = raw.find(tag + "-")
        if k >= 0:
            out.append(raw[k:])
    return out


def exactly_once(got, tag, n, what):
    want = ["%s-%06d" % (tag, i) for i in range(n)]
    check(len(got) == n and sorted(got) == want,
          "%s: %d of %d lines, each once (missing %d, doubled %d)" % (
              what, len(set(got) & set(want)), n, len(set(want) - set(got)),
              len(got) - len(set(got))))


def main():
    d = Daemon(CONFIG)
    log = os.path.join(d.dir, "app.log")
    append(log, "a", range(0, 100))
    d.start()
    check(wait_for(lambda: processed(d) >= 100), "existing lines read from the start")
    append(log, "a", range(100, 200))
    check(wait_for(lambda: processed(d) >= 200), "appended lines followed")

    # Rotation by rename: lines written to the old file just before the
    # rename must still be read, then the new file from its start.
    append(log, "a", range(200, 250))
    os.rename(log, log + ".1")
    append(log, "a", range(250, 300))
    check(wait_for(lambda: processed(d) >= 300), "rotation by rename followed")

    # Rotation by truncation (copytruncate): the file shrinks.
    os.truncate(log, 0)
    append(log, "a", range(300, 310))
    check(wait_for(lambda: processed(d) >= 310), "truncation detected and followed")
    _, _, text = d.get("/metrics")
    check((d.metric(text, "hikeshi_input_rotations_total", 'input="app"') or 0) >= 2,
          "rotations are counted")

    # A partial last line is not read until its newline arrives.
    with open(log, "a") as f:
        f.write("Nov 23 12:00:00 filehost app[1]: a-000310")
    time.sleep(0.5)
    check(processed(d) == 310, "a partial line waits for its newline")
    with open(log, "a") as f:
        f.write("\n")
    check(wait_for(lambda: processed(d) >= 311), "the completed line is read")
    rc = d.stop()
    check(rc == 0, "SIGTERM exits 0")
    exactly_once(stored_tags(d, "a"), "a", 311, "follow, rename, truncate")

    # Restart while the file is appended to and rotated.
    stop = threading.Event()
    counter = [0]

    def writer():
        i = 0
        while not stop.is_set() or i < 3000:
            append(log, "b", range(i, i + 10))
            i += 10
            time.sleep(0.002)
            if stop.is_set() and i >= 3000:
                break
        counter[0] = i

    os.unlink(log + ".1")
    w = threading.Thread(target=writer)
    d.start()
    w.start()
    time.sleep(0.5)
    rc = d.stop()                       # stopped mid-stream
    check(rc == 0, "first stop exits 0")
    time.sleep(0.2)                     # the writer goes on while we are down
    os.rename(log, log + ".1")          # ... and the file rotates
    time.sleep(0.2)
    d.start()                           # the restart must finish app.log.1 first
    time.sleep(0.5)
    stop.set()
    w.join()
    n = counter[0]
    check(wait_for(lambda: len(stored_tags(d, "b")) >= n, timeout=30),
          "the restarted daemon caught up")
    rc = d.stop()
    check(rc == 0, "second stop exits 0")
    exactly_once(stored_tags(d, "b"), "b", n, "restart during append and rotation")
    finish()


if __name__ == "__main__":
    main()
