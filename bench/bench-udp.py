#!/usr/bin/env python3
"""bench-udp.py - a UDP syslog flood: hikeshi run beside rsyslogd.

Usage: [QUEUES=256,65536] bench/bench-udp.py HIKESHI LOAD [N]

Sends the first N lines of LOAD (default 200000; the file is cycled when
shorter), one datagram each, as fast as one sender process can, to a
`syslog-udp` input of `hikeshi run` and then to rsyslogd's imudp writing
to a file, on 127.0.0.1, each with a 4 MiB receive buffer.  Prints, side by
side, how many datagrams each one received (hikeshi: events in its store
after SIGTERM drained the queue; rsyslog: lines in its file once it stops
growing) and the fraction of N, with hikeshi's own counters of what it
dropped (queue full) and what the kernel dropped (SO_RXQ_OVFL).  hikeshi
runs once per pipeline.queue in QUEUES.

The sender is Python (sendto in a loop), so "full speed" is this sender's
rate, printed too; both receivers get the same bytes at the same pace.
No assertion: a benchmark.
"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

RCVBUF = 4 * 1024 * 1024
# pipeline.queue, in batches (of up to 64 datagrams): the default, and one
# that holds the whole flood while the pipeline catches up (recvmmsg returns what is waiting, often a few datagrams, so a batch may be small)
QUEUES = [int(q) for q in os.environ.get("QUEUES", "256,65536").split(",")]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def send(lines, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, RCVBUF)
    dst = ("127.0.0.1", port)
    t0 = time.monotonic()
    for ln in lines:
        while True:
            try:
                s.sendto(ln, dst)
                break
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                # ENOBUFS: the local queue is full; the datagram is lost
                # on the sender's side, so try it again.
                time.sleep(0)
    dt = time.monotonic() - t0
    s.close()
    return dt


def settle(count, limit=60.0):
    """Polls count() until it stops growing for a second."""
    last, still, end = -1, 0.0, time.time() + limit
    while time.time() < end:
        n = count()
        if n == last:
            still += 0.2
            if still >= 1.0:
                return n
        else:
            still = 0.0
        last = n
        time.sleep(0.2)
    return last


def metrics(text, name):
    for ln in text.splitlines():
        if ln.startswith(name + "{") or ln.startswith(name + " "):
            return ln.rsplit(" ", 1)[1]
    return "-"


def run_hikeshi(hikeshi, lines, tmp, queue):
    port, hport = free_port(), free_port()
    var = os.path.join(tmp, f"var{queue}")
    os.makedirs(var)
    conf = os.path.join(tmp, f"hikeshi{queue}.yaml")
    with open(conf, "w") as f:
        f.write(f"""data_dir: {var}
log:
  level: info
http:
  listen: 127.0.0.1:{hport}
store:
  events: true
archive:
  enabled: false
pipeline:
  queue: {queue}
inputs:
  - name: bench-udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
""")
    err = open(os.path.join(tmp, "hikeshi.err"), "w")
    p = subprocess.Popen([hikeshi, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=err)
    try:
        time.sleep(1.5)
        dt = send(lines, port)
        time.sleep(1.0)
        text = ""
        try:
            import urllib.request
            with urllib.request.urlopen(f"http://127.0.0.1:{hport}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError as e:
            text = f"# {e}"
        dropped = metrics(text, "hikeshi_input_dropped_total")
        kdropped = metrics(text, "hikeshi_input_kernel_dropped_total")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=300)
        err.close()
    if p.returncode != 0:
        with open(os.path.join(tmp, "hikeshi.err")) as f:
            sys.stderr.write(f.read()[-2000:])
    db = sqlite3.connect(f"file:{var}/hikeshi.db?mode=ro", uri=True)
    n = db.execute("select count(*) from events").fetchone()[0]
    return n, dt, f"dropped by hikeshi (queue full) {dropped}, by the kernel {kdropped}"


def run_rsyslog(lines, tmp):
    if not shutil.which("rsyslogd"):
        return None, 0.0, "rsyslogd not installed"
    port = free_port()
    rs = os.path.join(tmp, "rs")
    os.makedirs(rs)
    out = os.path.join(rs, "out.log")
    conf = os.path.join(tmp, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(f"""global(workDirectory="{rs}" maxMessageSize="64k")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{port}" rcvbufSize="{RCVBUF}")
template(name="raw" type="string" string="%rawmsg%\\n")
action(type="omfile" file="{out}" template="raw")
""")
    p = subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", os.path.join(rs, "pid")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        dt = send(lines, port)

        def count():
            try:
                with open(out, "rb") as f:
                    return sum(1 for _ in f)
            except OSError:
                return 0
        n = settle(count)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
    return n, dt, ""


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    hikeshi, load = sys.argv[1], sys.argv[2]
    want = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
    with open(load, "rb") as f:
        src = [ln.rstrip(b"\n") for ln in f if ln.strip()]
    lines = [src[i % len(src)] for i in range(want)]
    with tempfile.TemporaryDirectory(prefix="bench-udp.") as tmp:
        # Started as root the daemon drops to an unprivileged user, which
        # must still reach its data_dir here.
        os.chmod(tmp, 0o755)
        rows = [(f"hikeshi run, UDP -> store, queue {q}",) + run_hikeshi(hikeshi, lines, tmp, q)
                for q in QUEUES]
        rows.append(("peer: rsyslogd imudp -> file",) + run_rsyslog(lines, tmp))
    print(f"{'case':<40} {'sent':>9} {'received':>9} {'fraction':>9} {'send s':>7} {'send/s':>9}")
    for name, n, dt, note in rows:
        if n is None:
            print(f"{name:<40} ({note})")
            continue
        print(f"{name:<40} {want:>9} {n:>9} {n / want:>9.3f} {dt:>7.2f} {want / dt:>9,.0f}")
        if note:
            print(f"    {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
