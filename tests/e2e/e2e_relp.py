"""End to end: RELP from Debian's rsyslog (omrelp) into a `type: relp`
input, acked only once the record is in the archive (issue 17).

rsyslogd runs as nobody in the foreground with its own work directory and
pid file; the test feeds numbered lines to its imtcp, and it forwards them
with omrelp to hikeshi (archive.sync: every record).
  - every line of a first run arrives in the archive (`hikeshi archive
    cat`), each once, with its sender's address and the input's name, and
    is decoded and stored as an event;
  - a raw socket sending frames that are no RELP gets a log line that says
    so, and the daemon keeps running (rsyslog's later lines still arrive);
  - a second relp input whose peers exclude 127.0.0.1 drops a valid RELP
    message from a hand-written client: counted as denied, logged, not
    archived;
  - hikeshi is killed with SIGKILL while rsyslog streams a second run, and
    restarted: omrelp resends what was not acked, so every numbered line is
    in the archive.  A line archived (and synced) whose "200 OK" the kill
    kept from rsyslog is resent and so archived twice: RELP delivers at
    least once.  Duplicates are counted, printed, and must be within
    omrelp's window (the messages it may have unacked at once).

Needs rsyslog and rsyslog-relp (dev.sh TEST_PKGS); fails, never skips,
without them.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, free_port, wait_for  # noqa: E402

RSYSLOGD = "/usr/sbin/rsyslogd"
OMRELP = "/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so"
WINDOW = 128  # omrelp's windowSize: the most messages it leaves unacked
FIRST = 2000
SECOND = 6000
LINE_RE = re.compile(rb"relptest r(\d+)n(\d+) from")

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: relp
    type: relp
    listen: 127.0.0.1:{port}
  - name: relp-denied
    type: relp
    listen: 127.0.0.1:%d
    peers: [192.0.2.0/24]
archive:
  sync: every record
"""


def line(run, n):
    """Line n of run `run`: a failed sshd login now and then, so decoding
    and rules see real records."""
    if n % 10 == 0:
        return ("<38>Oct 11 22:14:15 web1 sshd[4242]: Failed password for invalid user "
                "relptest r%dn%d from 10.1.%d.%d port 22 ssh2\n" % (run, n, (n >> 8) & 255, n & 255))
    return "<14>Oct 11 22:14:15 web1 app[77]: relptest r%dn%d from queue\n" % (run, n)


class Rsyslog:
    """rsyslogd -n as nobody: imtcp in, omrelp out."""

    def __init__(self, base, in_port, relp_port):
        self.dir = os.path.join(base, "rsyslog")
        os.mkdir(self.dir)
        os.chown(self.dir, 65534, 65534)
        self.in_port = in_port
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        conf = os.path.join(self.dir, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write('global(workDirectory="%s")\n'
                    'module(load="imtcp")\n'
                    'module(load="omrelp")\n'
                    'input(type="imtcp" port="%d" address="127.0.0.1")\n'
                    # A queue of its own, retried for ever: while hikeshi is
                    # down nothing is discarded.
                    'action(type="omrelp" target="127.0.0.1" port="%d" windowSize="%d"\n'
                    '       template="RSYSLOG_TraditionalForwardFormat"\n'
                    '       action.resumeRetryCount="-1" action.resumeInterval="1"\n'
                    '       queue.type="LinkedList" queue.size="100000")\n'
                    % (self.dir, in_port, relp_port, WINDOW))
        os.chmod(conf, 0o644)
        self.log = open(os.path.join(self.dir, "rsyslogd.out"), "wb")
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", RSYSLOGD, "-n",
             "-f", conf, "-i", self.pidfile], stdout=self.log, stderr=subprocess.STDOUT)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", in_port), timeout=1).close()
                return True
            except OSError:
                return False
        if not wait_for(listening, timeout=15):
            raise RuntimeError("rsyslogd's imtcp did not listen:\n" + self.output())

    def feed(self, run, count, pace=0.0):
        """Writes `count` numbered lines to imtcp, `pace` seconds apart per
        hundred."""
        s = socket.create_connection(("127.0.0.1", self.in_port))
        for i in range(0, count, 100):
            s.sendall("".join(line(run, n) for n in range(i, min(i + 100, count))).encode())
            if pace:
                time.sleep(pace)
        s.close()

    def output(self):
        with open(os.path.join(self.dir, "rsyslogd.out"), errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def archived(d):
    """{(run, n): copies} and the jsonl rows of the relp input's records."""
    r = subprocess.run([BIN, "archive", "cat", "-c", d.conf, "-f", "jsonl"], capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError("archive cat: %s" % r.stderr.decode()[:300])
    counts, rows = {}, []
    for raw in r.stdout.splitlines():
        m = LINE_RE.search(raw)
        if not m:
            continue
        key = (int(m.group(1)), int(m.group(2)))
        counts[key] = counts.get(key, 0) + 1
        rows.append(json.loads(raw))
    return counts, rows


def count_run(d, run):
    counts, _ = archived(d)
    return sum(1 for (r, _n) in counts if r == run)


def relp_frame(txnr, cmd, data=b""):
    return b"%d %s %d%s\n" % (txnr, cmd, len(data), (b" " + data) if data else b"")


def relp_client(port, msg):
    """A minimal RELP client: open, one syslog message; returns the
    server's answers."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(relp_frame(1, b"open", b"relp_version=0\nrelp_software=e2e\ncommands=syslog"))
    got = b""
    deadline = time.time() + 5
    while b" rsp " not in got and time.time() < deadline:
        got += s.recv(4096)
    s.sendall(relp_frame(2, b"syslog", msg))
    while got.count(b" rsp ") < 2 and time.time() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    return got


def kill9_and_restart(d, rs):
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.logf.close()
    time.sleep(1.5)  # rsyslog notices, queues, retries
    d.start(timeout=60)


def main():
    if not (os.path.exists(RSYSLOGD) and os.path.exists(OMRELP)):
        check(False, "needs rsyslog and rsyslog-relp (./dev.sh installs them)")
        finish()
    denied_port = free_port()
    d = Daemon(CONFIG % denied_port)
    d.start(timeout=60)
    rs = Rsyslog(d.dir, free_port(), d.port)
    ok = False
    try:
        # 1. Every line of a first run, archived once, decoded and stored.
        rs.feed(1, FIRST)
        wait_for(lambda: count_run(d, 1) >= FIRST, timeout=60, step=0.5)
        counts, rows = archived(d)
        run1 = {k: v for k, v in counts.items() if k[0] == 1}
        check(len(run1) == FIRST, "run 1: %d of %d lines archived" % (len(run1), FIRST))
        check(all(v == 1 for v in run1.values()), "run 1: each line archived once")
        check(rows and all(r.get("input") == "relp" for r in rows),
              "archived records name the relp input (%s)" % (rows[0] if rows else None))
        check(rows and all(r.get("peer", "").startswith("127.0.0.1") for r in rows),
              "archived records carry the sender's address (%s)" % (rows[0].get("peer") if rows else None))

        def stored_run1():
            con = d.db()
            n = con.execute("SELECT count(*) FROM events WHERE input = 'relp' AND "
                            "CAST(raw AS TEXT) LIKE '%relptest r1n%'").fetchone()[0]
            con.close()
            return n
        wait_for(lambda: stored_run1() >= FIRST, timeout=30, step=0.5)
        check(stored_run1() == FIRST, "run 1: %d of %d lines stored as events"
              % (stored_run1(), FIRST))
        con = d.db()
        ev = con.execute("SELECT * FROM events WHERE input = 'relp' AND CAST(raw AS TEXT) "
                         "LIKE '%relptest r1n10 from%'").fetchone()
        con.close()
        check(ev is not None and "sshd" in json.dumps(dict(ev), default=str),
              "a relp line is decoded (sshd program)")

        # 2. Frames that are no RELP: a log line, the daemon runs on.
        before = len(d.read_log())
        for junk in (b"hello there\n", b"1 syslog 99999999999999999999 x\n",
                     b"\x00\xff\x01 rsp -5\n" * 3):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(junk)
            try:
                s.recv(100)
            except OSError:
                pass
            s.close()
        said = "input relp: RELP session from '127.0.0.1' closed: a malformed RELP frame"
        wait_for(lambda: d.read_log()[before:].count(said) >= 3, timeout=10)
        new = d.read_log()[before:]
        print("malformed frames logged as:", [l for l in new.splitlines() if "RELP" in l][:3])
        check(new.count(said) == 3, "each malformed RELP frame is logged with the input and the "
              "sender (%d of 3)" % new.count(said))
        check(d.proc.poll() is None, "the daemon still runs after malformed frames")

        # 3. peers: 127.0.0.1 is not in relp-denied's peers.
        before = len(d.read_log())
        answer = relp_client(denied_port, b"<13>Oct 11 22:14:15 h t: relptest r9n1 from denied")
        wait_for(lambda: "not in peers" in d.read_log()[before:], timeout=10)
        check("input relp-denied: RELP message from '127.0.0.1' dropped: not in peers"
              in d.read_log()[before:], "a sender outside peers is logged (%r)" % answer[-60:])
        counts, _ = archived(d)
        check((9, 1) not in counts, "a sender outside peers is not archived")
        _, _, body = d.get("/metrics")
        m = re.search(r'hikeshi_input_denied_total\{input="relp-denied"[^}]*\} (\d+)', body)
        check(m and int(m.group(1)) == 1, "denied counted on /metrics (%s)"
              % (m.group(0) if m else "no such line"))

        # 4. kill -9 mid-stream, restart: omrelp resends what was unacked.
        feeder = threading.Thread(target=rs.feed, args=(2, SECOND, 0.02))
        feeder.start()
        wait_for(lambda: count_run(d, 2) >= SECOND // 4, timeout=60, step=0.2)
        at_kill = count_run(d, 2)
        kill9_and_restart(d, rs)
        feeder.join()
        print("run 2: %d lines archived at the kill" % at_kill)
        check(at_kill < SECOND, "the kill came mid-stream (%d of %d archived)" % (at_kill, SECOND))
        wait_for(lambda: count_run(d, 2) >= SECOND, timeout=120, step=0.5)
        counts, _ = archived(d)
        run2 = {k: v for k, v in counts.items() if k[0] == 2}
        missing = SECOND - len(run2)
        dups = sum(v - 1 for v in run2.values())
        print("run 2: %d distinct lines archived, %d missing, %d duplicates (archived, then "
              "resent because the kill came before rsyslog had the ack)" % (len(run2), missing, dups))
        check(missing == 0, "run 2: every line archived after the kill and restart (%d missing)"
              % missing)
        check(dups <= WINDOW, "run 2: duplicates (%d) within omrelp's window (%d)" % (dups, WINDOW))
        check(all(v == 1 for k, v in counts.items() if k[0] == 1),
              "run 1's lines are not resent after the restart")
        rs.stop()
        rc = d.stop()
        check(rc == 0, "the daemon stops cleanly on SIGTERM with relp inputs (exit %d)" % rc)
        log = d.read_log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report in the daemon's log")
        ok = True
    finally:
        if rs.proc.poll() is None:
            rs.stop()
        if d.proc.poll() is None:
            d.stop()
        if not ok:
            print("rsyslogd said:\n" + rs.output()[-3000:])
            print("hikeshi said:\n" + d.read_log()[-3000:])
    if ok:
        shutil.rmtree(d.dir, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
