"""End to end: who may send to the syslog inputs, and connection limits
that hold against a flood, over real loopback sockets (127.0.0.1 and other
addresses of 127.0.0.0/8 as distinct senders).

- peers: a TCP connection and a UDP datagram from 127.0.0.2 to an input
  that lists only 127.0.0.1 are refused and counted; 127.0.0.1's records
  arrive.  A trusted syslog input without peers is a config error.
- 2,000 idle connections from 127.0.0.2 with the default limits: that
  address gets max_per_address of them, the rest are refused, and a second
  sender's record arrives at once.
- A full table (max_connections 16, 4 per address from four addresses):
  a newcomer is admitted, the connection idle longest (not the oldest
  opened, which had just sent a line) is closed, and what it had sent is
  stored.
- idle_timeout: a silent connection is closed after it; its line is kept.
- A SIGHUP that changes peers warns that the inputs need a restart.
"""

import os
import resource
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, free_port, wait_for  # noqa: E402

FLOOD = 2000

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
  - name: small
    type: syslog-tcp
    listen: 127.0.0.1:%(small)d
    max_connections: 16
    max_per_address: 4
  - name: idle
    type: syslog-tcp
    listen: 127.0.0.1:%(idle)d
    idle_timeout: 1
  - name: peers-tcp
    type: syslog-tcp
    listen: 127.0.0.1:%(ptcp)d
    trust: trusted
    peers: [127.0.0.1]
  - name: peers-udp
    type: syslog-udp
    listen: 127.0.0.1:%(pudp)d
    peers: [127.0.0.1/32, "::1"]
"""


def connect_from(src, port, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def line(tag):
    return "<38>Dec 10 06:55:48 hostx sshd[24200]: Failed password for root from " \
           "198.51.100.7 port 38926 ssh2 marker=%s\n" % tag


def stored(d, tag):
    try:
        con = d.db()
        # The tag ends the record; LIKE on the BLOB itself matches nothing.
        n = con.execute("SELECT count(*) FROM events WHERE CAST(raw AS TEXT) LIKE ?",
                        ("%marker=" + tag,)).fetchone()[0]
        con.close()
        return n
    except Exception:  # the store may be busy or not yet created
        return 0


def metric(d, name, inp):
    _, _, text = d.get("/metrics")
    return d.metric(text, name, 'input="%s"' % inp)


def closed_by_server(s, timeout):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FLOOD + 512
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY
                                                    else want, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    check(soft >= want, "RLIMIT_NOFILE raised to %d for %d client sockets" % (soft, FLOOD))

    ports = {"small": free_port(), "idle": free_port(), "ptcp": free_port(), "pudp": free_port()}
    d = Daemon(CONFIG % ports)
    d.start()
    try:
        # --- peers ---
        bad_t = connect_from("127.0.0.2", ports["ptcp"])
        bad_t.sendall(line("forged-tcp").encode())
        check(closed_by_server(bad_t, 5), "peers: TCP from 127.0.0.2 closed by the daemon")
        bad_u = connect_from("127.0.0.2", ports["pudp"], socket.SOCK_DGRAM)
        bad_u.send(line("forged-udp").encode())
        good_t = connect_from("127.0.0.1", ports["ptcp"])
        good_t.sendall(line("listed-tcp").encode())
        good_u = connect_from("127.0.0.1", ports["pudp"], socket.SOCK_DGRAM)
        good_u.send(line("listed-udp").encode())
        check(wait_for(lambda: stored(d, "listed-tcp") == 1 and stored(d, "listed-udp") == 1),
              "peers: 127.0.0.1's TCP and UDP records stored")
        check(wait_for(lambda: metric(d, "hikeshi_input_denied_total", "peers-tcp") == 1 and
                       metric(d, "hikeshi_input_denied_total", "peers-udp") == 1),
              "peers: one refusal counted per input in input_denied_total")
        check(stored(d, "forged-tcp") == 0 and stored(d, "forged-udp") == 0,
              "peers: nothing from 127.0.0.2 stored")
        log = d.read_log()
        check("connection from 127.0.0.2:" in log and "datagram from 127.0.0.2:" in log and
              "not in peers" in log, "peers: the refusals are logged with the address")
        for s in (bad_t, bad_u, good_t, good_u):
            s.close()

        # --- 2,000 idle connections from one address ---
        t0 = time.time()
        flood = []
        for _ in range(FLOOD):
            try:
                flood.append(connect_from("127.0.0.2", d.port))
            except OSError as e:
                check(False, "flood connect failed: %s" % e)
                break
        check(len(flood) == FLOOD, "%d connections from 127.0.0.2 made (%.1fs)" %
              (len(flood), time.time() - t0))
        check(wait_for(lambda: metric(d, "hikeshi_input_connections_refused_total", "tcp") ==
                       FLOOD - 64, timeout=20),
              "flood: %d refused beyond max_per_address 64 (saw %s)" %
              (FLOOD - 64, metric(d, "hikeshi_input_connections_refused_total", "tcp")))
        t1 = time.time()
        other = connect_from("127.0.0.1", d.port)
        other.sendall(line("second-sender").encode())
        ok = wait_for(lambda: stored(d, "second-sender") == 1, timeout=10)
        check(ok, "flood: a second sender's record arrives while 127.0.0.2 holds its connections"
              " (%.2fs)" % (time.time() - t1))
        open_flood = sum(1 for s in flood if not closed_by_server(s, 0.001))
        check(open_flood == 64, "flood: 127.0.0.2 keeps exactly 64 open connections (%d)" %
              open_flood)
        for s in flood:
            s.close()
        other.close()

        # --- full table: the connection idle longest makes room ---
        conns = []
        for a in range(2, 6):
            for _ in range(4):
                conns.append(connect_from("127.0.0.%d" % a, ports["small"]))
                time.sleep(0.01)
        check(wait_for(lambda: metric(d, "hikeshi_input_connections_total", "small") == 16),
              "full table: 16 connections from 4 addresses accepted")
        # The first opened speaks now: the one idle longest is the second.
        conns[0].sendall(line("oldest-speaks").encode())
        conns[1].sendall(line("idle-longest").encode())
        check(wait_for(lambda: stored(d, "oldest-speaks") == 1 and stored(d, "idle-longest") == 1),
              "full table: two lines stored")
        conns[0].sendall(line("oldest-speaks-again").encode())
        check(wait_for(lambda: stored(d, "oldest-speaks-again") == 1),
              "full table: the oldest connection spoke last")
        newcomer = connect_from("127.0.0.6", ports["small"])
        newcomer.sendall(line("newcomer").encode())
        check(wait_for(lambda: stored(d, "newcomer") == 1), "full table: the newcomer's record arrives")
        check(metric(d, "hikeshi_input_connections_evicted_total", "small") == 1,
              "full table: one connection evicted")
        check(metric(d, "hikeshi_input_connections_refused_total", "small") == 0,
              "full table: none refused")
        check(closed_by_server(conns[2], 3),
              "full table: the connection idle longest (third opened, silent) was closed")
        check(not closed_by_server(conns[0], 0.2) and not closed_by_server(conns[1], 0.01),
              "full table: the recently active ones stay open")
        for s in conns + [newcomer]:
            s.close()

        # --- idle timeout ---
        quiet = connect_from("127.0.0.1", ports["idle"])
        quiet.sendall(line("before-idle").encode())
        t2 = time.time()
        closed = closed_by_server(quiet, 5)
        took = time.time() - t2
        check(closed and 0.8 <= took <= 3.5,
              "idle_timeout 1: a silent connection closed after %.1fs" % took)
        check(stored(d, "before-idle") == 1, "idle_timeout: what it sent was kept")
        check(metric(d, "hikeshi_input_connections_idle_closed_total", "idle") == 1,
              "idle_timeout: counted in input_connections_idle_closed_total")
        quiet.close()

        # peers are the running input's: a SIGHUP that changes them says a
        # restart is needed instead of pretending they were applied.
        d.write_config((CONFIG % ports).replace("peers: [127.0.0.1]", "peers: [127.0.0.2]"))
        d.signal(signal.SIGHUP)
        check(wait_for(lambda: "SIGHUP: the inputs changed" in d.read_log()),
              "SIGHUP with other peers: the log says the inputs need a restart")
    finally:
        rc = d.stop()
    check(rc == 0, "daemon stopped cleanly (%d)" % rc)

    # A trusted network input without peers is refused, saying why.
    bad = os.path.join(d.dir, "trusted-no-peers.yaml")
    with open(bad, "w") as f:
        f.write("data_dir: %s\ninputs:\n  - name: open\n    type: syslog-tcp\n"
                "    listen: 127.0.0.1:%d\n    trust: trusted\n" % (d.data, free_port()))
    r = subprocess.run([BIN, "run", "-c", bad], capture_output=True, text=True, timeout=20)
    check(r.returncode != 0 and "needs peers" in r.stderr and "trusted-no-peers.yaml:3" in r.stderr,
          "trusted syslog input without peers: refused at start with file:line and why (%s)" %
          r.stderr.strip().splitlines()[-1:])
    finish()


if __name__ == "__main__":
    main()
