"""The archive is the queue (issue 17): records are appended to
DATA_DIR/archive on receipt, before processing, and the pipeline's cursor
commits with what it stored.  A TCP sender writes numbered sshd lines at
full speed while the daemon, with `archive.sync: every record`, is killed
with SIGKILL at random points four times (up to ten, until a restart has
replayed records) and restarted each time.  HIKESHI_CRASH_KILLS=N sets
the number of kills (bench/bench-crash.sh runs issue 17's 20) and
HIKESHI_CRASH_LINES the lines a connection sends at most (30000 here, to
bound the run under ASan), and the run ends with a one-line summary of
lines sent, archived and stored.  After
the last restart has drained:
  - what `hikeshi archive cat` shows of each connection is a gap-free
    prefix of the lines sent, holding every line the daemon read (the
    daemon is frozen with SIGSTOP before the SIGKILL, so the bytes the
    kernel still queued can be taken off what was sent): the input takes
    bytes off the socket only once the records they complete are archived,
    so nothing read is lost;
  - every archived line is stored as an event exactly once, and no rule
    alerted twice on one line (replay after a crash does not repeat what
    the cursor's commit already holds); nothing stored is missing from
    the archive;
  - each restart's log reports the torn tail it cut (0 records with every
    record synced) and what it replayed, and some restart did replay;
  - /api/v1/health's archive shows the records, the committed cursor at
    the end, unsealed, and pipeline.stored counts only committed events.
The default policy (sync every 200 ms) after one kill -9: the restart warns
that up to 200 ms of records may be missing, and the archive is still a
gap-free prefix whose every line is stored once.  Damage inside the
archive then keeps it from being appended to, never ingest.
Then a daemon with archive.key (the dropped user's key directory) seals
what it archives: health says sealed, and after SIGTERM `hikeshi archive
verify` finds every record sealed by a good chain of seals.
"""

import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, FAILURES, Daemon, check, finish, wait_for  # noqa: E402

KILLS = int(os.environ.get("HIKESHI_CRASH_KILLS", "4"))
EXTRA_KILLS = 6
DIRS = []  # each daemon's directory, removed when every check passed
MAX_LINES = int(os.environ.get("HIKESHI_CRASH_LINES", "30000"))  # per connection: bounds ASan runs
LINE_RE = re.compile(rb" c(\d+)n(\d+) from")

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
archive:
  sync: every record
"""


def line(conn, n):
    """Line n of connection conn: every 16th a failed sshd login that a
    rule alerts on, the others a plain program line (cheap to process, so
    that the pipeline commits a few times between the kills)."""
    if n % 16 == 0:
        return (b"<38>Oct 11 22:14:15 web1 sshd[4%03d]: Failed password for invalid user "
                b"c%dn%d from 10.%d.%d.%d port 22 ssh2\n"
                % (conn % 1000, conn, n, conn % 256, (n >> 8) & 255, n & 255))
    return b"<14>Oct 11 22:14:15 web1 app[77]: job done for c%dn%d from queue\n" % (conn, n)


def sender(port, conn, sent, stop, socks):
    """Writes numbered lines at full speed until `stop` is set, the daemon
    dies or MAX_LINES; sent[conn] gets how many bytes were handed to the
    kernel (exactly: partial sends counted).  The socket is left open in
    socks[conn] so that what the kernel still holds can be read from
    /proc/net/tcp before the kill."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(0.2)
    socks[conn] = s
    n = nbytes = 0
    buf = memoryview(b"")
    try:
        while not stop.is_set():
            if not buf:
                if n >= MAX_LINES:
                    break
                m = min(n + 200, MAX_LINES)
                buf = memoryview(b"".join(line(conn, i) for i in range(n, m)))
                n = m
            try:
                k = s.send(buf)
            except socket.timeout:
                continue
            nbytes += k
            buf = buf[k:]
    except OSError:
        pass
    sent[conn] = nbytes


def lines_within(conn, nbytes):
    """How many whole lines of connection conn the first nbytes hold."""
    n = 0
    while True:
        k = len(line(conn, n))
        if k > nbytes:
            return n
        nbytes -= k
        n += 1


def kernel_queued(daemon_port, sender_port):
    """Bytes the kernel holds between the sender and the daemon: the
    daemon socket's receive queue and the sender socket's send queue, from
    /proc/net/tcp (hex ports; tx_queue:rx_queue is the fifth column)."""
    total = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            col = row.split()
            local, remote = int(col[1].split(":")[1], 16), int(col[2].split(":")[1], 16)
            tx, rx = (int(x, 16) for x in col[4].split(":"))
            if (local, remote) == (daemon_port, sender_port):
                total += rx
            elif (local, remote) == (sender_port, daemon_port):
                total += tx
    return total


def settled_queue(daemon_port, sender_port):
    """kernel_queued once it stops changing: the sender's send queue
    counts bytes not yet acknowledged, and the frozen daemon's kernel may
    still owe a delayed ACK for bytes already in its receive queue (they
    would be counted twice)."""
    last = kernel_queued(daemon_port, sender_port)
    for _ in range(50):
        time.sleep(0.1)
        now = kernel_queued(daemon_port, sender_port)
        if now == last:
            return now
        last = now
    return last


def start(d, timeout=60):
    """Starts the daemon and waits for this run's own ready line (the log
    file keeps every run's)."""
    before = d.read_log().count("ready: data in")
    d.logf = open(d.log, "ab")
    d.proc = subprocess.Popen([BIN, "run", "-c", d.conf], stdout=d.logf, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.proc.poll() is not None:
            raise RuntimeError("hikeshi exited %d:\n%s" % (d.proc.returncode, d.read_log()))
        if d.read_log().count("ready: data in") > before:
            return
        time.sleep(0.05)
    raise RuntimeError("hikeshi did not become ready:\n" + d.read_log())


def replay_seen(log, logs_at):
    """Whether a restart after the first run replayed records."""
    return any(int(n) > 0 for n in re.findall(r"replayed (\d+) records after the committed cursor",
                                               log[logs_at[1]:] if len(logs_at) > 1 else ""))


def health(d):
    return json.loads(d.get("/api/v1/health")[2])


def main():
    seed = int(os.environ.get("E2E_SEED", time.time()))
    random.seed(seed)
    d = Daemon(CONFIG)
    DIRS.append(d.dir)
    print("seed %d, directory %s" % (seed, d.dir))
    sent, read, socks = {}, {}, {}
    logs_at = []
    # KILLS kills, and a few more while no restart has yet replayed
    # anything: on a slow disk the pipeline may have caught up with the
    # archive at each kill, and the replay must be seen to be tested.
    conn = 0
    while conn < KILLS or (conn < KILLS + EXTRA_KILLS and not replay_seen(d.read_log(), logs_at)):
        logs_at.append(len(d.read_log()))
        start(d)
        at = health(d)["archive"]["cursor"]
        stop = threading.Event()
        t = threading.Thread(target=sender, args=(d.port, conn, sent, stop, socks))
        t.start()
        # Mid-stream: once the pipeline has committed part of this run's
        # lines, at a random point after that.  The daemon is frozen there
        # (SIGSTOP) so that what it has read can be counted: the sender
        # stops, and the bytes it handed to the kernel less those the
        # kernel still queues are what the daemon read.  Then SIGKILL.
        check(wait_for(lambda: health(d)["archive"]["cursor"] > at, timeout=60),
              "run %d: the pipeline commits a cursor while the sender writes" % conn)
        time.sleep(random.uniform(0.0, 0.6))
        d.proc.send_signal(signal.SIGSTOP)
        stop.set()
        t.join(30)
        queued = settled_queue(d.port, socks[conn].getsockname()[1])
        read[conn] = lines_within(conn, sent[conn] - queued)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.logf.close()
        socks[conn].close()
        print("connection %d: %d bytes handed to the kernel, %d still queued in it at the kill, "
              "%d whole lines read by the daemon" % (conn, sent[conn], queued, read[conn]))
        conn += 1
    kills = conn

    logs_at.append(len(d.read_log()))
    start(d)
    check(wait_for(lambda: (lambda h: h["archive"]["cursor"] == h["archive"]["records"]
                            and h["queue"]["depth"] == 0)(health(d)), timeout=60),
          "after the last restart the committed cursor reaches the archive's end")
    h = health(d)
    print("health archive: %s" % json.dumps(h["archive"]))
    check(h["archive"]["sealed"] is False and h["archive"]["sync_ms"] == 0,
          "health: unsealed, sync every record")
    check(h["archive"]["records"] > 0 and h["archive"]["synced"] == h["archive"]["records"],
          "health: every archived record is synced (%d)" % h["archive"]["records"])
    check(h["pipeline"]["stored"] == h["archive"]["replayed"],
          "health: pipeline.stored counts the committed events, here the replayed records "
          "(%d, %d replayed)" % (h["pipeline"]["stored"], h["archive"]["replayed"]))
    check(d.stop() == 0, "the last run stops cleanly")

    log = d.read_log()
    replayed_total = 0
    for i in range(1, len(logs_at)):
        part = log[logs_at[i]:logs_at[i + 1]] if i + 1 < len(logs_at) else log[logs_at[i]:]
        torn = re.search(r"archive \S+: (\d+) records, no torn tail \(0 records dropped\)", part)
        cut = re.search(r"torn tail was cut at restart from \S+: (\d+) bytes, (\d+)", part)
        rep = re.search(r"replayed (\d+) records after the committed cursor", part)
        check(bool(torn) or bool(cut), "restart %d reports the archive's tail" % i)
        check("every record it queued had been synced" in part,
              "restart %d says the last run crashed, nothing queued unsynced" % i)
        check(not cut or int(cut.group(2)) == 0,
              "restart %d: no record dropped with sync every record (%s)"
              % (i, cut.group(0) if cut else "no torn tail"))
        if rep:
            replayed_total += int(rep.group(1))
    print("records replayed at restarts: %d" % replayed_total)
    check(replayed_total > 0, "some restart replayed records a kill left unprocessed")

    r = subprocess.run([BIN, "archive", "cat", "-c", d.conf], capture_output=True, timeout=120)
    check(r.returncode == 0, "archive cat: %s" % r.stderr.decode()[:200])
    archived = {}
    order_ok = True
    for raw in r.stdout.splitlines():
        m = LINE_RE.search(raw)
        if not m:
            continue
        c, n = int(m.group(1)), int(m.group(2))
        seq = archived.setdefault(c, [])
        if n != len(seq):
            order_ok = False
        seq.append(n)
    lost_after_read = []
    for c in range(kills):
        got = archived.get(c, [])
        nsent = lines_within(c, sent.get(c, 0))
        check(got == list(range(len(got))) and len(got) <= nsent,
              "connection %d: archived lines 0..%d, a gap-free prefix of the %d sent"
              % (c, len(got) - 1, nsent))
        # Read but not archived: none.  The input peeks at the socket and
        # takes the bytes off it only once the records they complete are
        # archived and synced, so a kill may leave archived lines still in
        # the kernel's queue (counted unread: at most one read, 64 KiB, and
        # the line whose head an earlier read took), never the other way
        # round.
        lost = max(0, read.get(c, 0) - len(got))
        lost_after_read.append(lost)
        ahead = sum(len(line(c, n)) for n in range(read.get(c, 0), len(got)))
        check(lost == 0 and ahead <= 64 * 1024 + len(line(c, read.get(c, 0))),
              "connection %d: every line the daemon read was archived (%d read, %d archived; "
              "%d not read, %d bytes archived ahead of the read)"
              % (c, read.get(c, 0), len(got), lost, ahead))
    check(order_ok, "the archive holds each connection's lines in order, each once")

    con = d.db()
    counts = {}
    for (raw,) in con.execute("SELECT raw FROM events"):
        m = LINE_RE.search(bytes(raw))
        if m:
            key = (int(m.group(1)), int(m.group(2)))
            counts[key] = counts.get(key, 0) + 1
    dups = sum(1 for v in counts.values() if v > 1)
    want = {(c, n) for c, seq in archived.items() for n in seq}
    missing = len(want - set(counts))
    extra = len(set(counts) - want)
    check(dups == 0, "no line stored twice as an event (%d duplicated)" % dups)
    check(missing == 0, "every archived line was processed and stored (%d missing of %d)"
          % (missing, len(want)))
    check(extra == 0, "no stored event is missing from the archive (%d)" % extra)
    dup_alerts = con.execute(
        "SELECT COUNT(*) FROM (SELECT a.rule_id, e.raw FROM alerts a JOIN events e "
        "ON a.event_id = e.id GROUP BY a.rule_id, e.raw HAVING COUNT(*) > 1)").fetchone()[0]
    nalerts = con.execute("SELECT COUNT(*) FROM alerts WHERE event_id IS NOT NULL").fetchone()[0]
    con.close()
    alerting = sum(1 for c, n in want if n % 16 == 0)
    check(nalerts >= alerting, "rules alerted on the failed logins (%d alerts for %d lines)"
          % (nalerts, alerting))
    check(dup_alerts == 0, "no rule alerted twice on one line (%d)" % dup_alerts)
    print("summary: %d kills, %d lines read by the daemon, %d archived (gap-free: %s), "
          "%d stored once each, %d missing, %d duplicated, %d replayed at restarts; "
          "read but not archived at a kill: %d lines in all, at most %d at one"
          % (kills, sum(read.values()), len(want), "yes" if order_ok else "NO",
             len(counts), missing, dups, replayed_total, sum(lost_after_read),
             max(lost_after_read) if lost_after_read else 0))
    first = log[:logs_at[1]]
    check("ended without closing" not in first, "the first start reports no crash")
    default_policy()
    sealed()
    if not FAILURES:
        for path in DIRS:
            shutil.rmtree(path, ignore_errors=True)
    finish()


DEFAULT_CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
"""


def default_policy():
    """archive.sync's default, every 200 ms: a kill -9 may lose the records
    not yet written out (never ones committed as processed), and the
    restart says so; what the archive holds is still a gap-free prefix,
    each line stored once."""
    d = Daemon(DEFAULT_CONFIG)
    DIRS.append(d.dir)
    sent, socks = {}, {}
    stop = threading.Event()
    start(d)
    t = threading.Thread(target=sender, args=(d.port, 7, sent, stop, socks))
    t.start()
    check(wait_for(lambda: health(d)["archive"]["cursor"] > 0, timeout=60),
          "default sync: the pipeline commits while the sender writes")
    time.sleep(random.uniform(0.0, 0.3))
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.logf.close()
    stop.set()
    t.join(30)
    socks[7].close()
    nsent = lines_within(7, sent[7])
    at = len(d.read_log())
    start(d)
    check(wait_for(lambda: (lambda h: h["archive"]["cursor"] == h["archive"]["records"]
                            and h["queue"]["depth"] == 0)(health(d)), timeout=60),
          "default sync: the restart replays to the archive's end")
    check(d.stop() == 0, "default sync: stops cleanly")
    part = d.read_log()[at:]
    check(re.search(r"records it received in its last 200 ms \(archive.sync\) may be missing",
                    part) is not None,
          "default sync: the restart says up to 200 ms of records may be missing")
    r = subprocess.run([BIN, "archive", "cat", "-c", d.conf], capture_output=True, timeout=120)
    got = [int(m.group(2)) for m in map(LINE_RE.search, r.stdout.splitlines()) if m]
    check(got == list(range(len(got))) and 0 < len(got) <= nsent,
          "default sync: archived lines 0..%d, a gap-free prefix of the %d sent"
          % (len(got) - 1, nsent))
    con = d.db()
    stored = {}
    for (raw,) in con.execute("SELECT raw FROM events"):
        m = LINE_RE.search(bytes(raw))
        if m:
            stored[int(m.group(2))] = stored.get(int(m.group(2)), 0) + 1
    con.close()
    check(sorted(stored) == got and all(v == 1 for v in stored.values()),
          "default sync: every archived line stored once, nothing else (%d stored, %d archived)"
          % (len(stored), len(got)))

    # Damage inside the archive (not a torn tail) stops appending to it,
    # never ingest: the daemon starts, says so, and still stores events.
    adir = os.path.join(d.data, "archive")
    seg = os.path.join(adir, sorted(f for f in os.listdir(adir) if f.startswith("seg-"))[-1])
    with open(seg, "r+b") as f:
        f.seek(os.path.getsize(seg) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0xFF]))
    at = len(d.read_log())
    start(d)
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"".join(line(8, n) for n in range(1, 101)))
    s.close()
    check(wait_for(lambda: health(d)["pipeline"]["stored"] >= 100, timeout=60),
          "damaged archive: ingest goes on, 100 lines stored")
    check("archive" not in health(d), "damaged archive: health shows no archive")
    check(d.stop() == 0, "damaged archive: stops cleanly")
    check("not kept in this run" in d.read_log()[at:],
          "damaged archive: the log says records are not archived in this run")


SEALED_CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
archive:
  key: KEYS/archive.key
  seal_records: 500
"""


def sealed():
    d = Daemon(SEALED_CONFIG)
    DIRS.append(d.dir)
    keys = os.path.join(d.dir, "keys")
    os.mkdir(keys, 0o700)
    if os.geteuid() == 0:
        # Started as root, the daemon becomes hikeshi (else nobody), and
        # each seal rewrites the evolving key in this directory.
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
        os.chown(keys, who.pw_uid, who.pw_gid)
    with open(d.conf) as f:
        text = f.read().replace("KEYS", keys)
    with open(d.conf, "w") as f:
        f.write(text)
    r = subprocess.run([BIN, "archive", "keygen", "-c", d.conf], capture_output=True, text=True)
    check(r.returncode == 0, "archive keygen: %s" % (r.stdout + r.stderr).strip()[:200])
    start(d)
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"".join(line(9, n) for n in range(2000)))
    s.close()
    check(wait_for(lambda: health(d)["archive"]["cursor"] == 2000, timeout=60),
          "sealed: 2000 lines archived and committed")
    h = health(d)["archive"]
    check(h["sealed"] is True and h["sync_ms"] == 200,
          "health: sealed, synced every 200 ms by default (%s)" % json.dumps(h))
    check(d.stop() == 0, "the sealing daemon stops cleanly")
    check(re.search(r"archive \S+: sealed with \S+archive.key", d.read_log()) is not None,
          "the log says the archive is sealed and with which key")
    r = subprocess.run([BIN, "archive", "verify", "-c", d.conf, "--json"], capture_output=True,
                       text=True, timeout=120)
    try:
        v = json.loads(r.stdout)
    except ValueError:
        v = {}
    check(r.returncode == 0 and v.get("records") == 2000 and v.get("sealed_records") == 2000
          and v.get("seals", 0) >= 4,
          "archive verify: 2000 records, all sealed, by at least 4 seals (%s%s)"
          % (r.stdout.strip()[:300], r.stderr.strip()[:200]))


if __name__ == "__main__":
    main()
