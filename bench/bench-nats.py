#!/usr/bin/env python3
"""bench-nats.py - records/s of the scale-out roles (issue 23, docs/scale.md)
beside the all-in-one daemon, on this machine.

Usage: HIKESHI_BIN=build/hikeshi bench/bench-nats.py [N] [NODES]

N numbered sshd failed-login lines (default 100000, each from its own
address, each raising a rule alert) go over one TCP connection:

  all-in-one   hikeshi run (role all): from the first line sent to N events
               in its store;
  collector    role collector, analysers stopped: from the first line sent
               to N records acked by the stream (its nats.published cursor);
  1 analyser   a fresh analyser started on the stream the collector filled:
               from its start to N events in its store (it drains the
               stream);
  2 analysers  the collector fills the stream with N more, then two fresh
               analysers drain it together;
  live 1+2     N more sent to the collector while both analysers run: from
               the first line sent to N more events in their stores (the
               whole path, as in service; CPU of all three).

Each row gives records/s, the CPU seconds the hikeshi processes used (from
/proc: user + system) and records per CPU second, the per-core efficiency;
a last line gives the NATS servers' CPU for the 3N records through them.
NODES (1, the default, or 3) nats-server processes with JetStream serve the
stream (replicas = NODES).  The lines name 50 hosts and the partitions are
keyed by host (8 partitions), so the two analysers' shares are uneven.  On
two cores the analysers, the NATS servers and the sender share the CPU: the
2-analyser row shows the sharing, not what two machines would do; the
per-CPU-second column is what carries over.  No assertion: a benchmark.
"""
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import harness  # noqa: E402
from harness import Daemon, free_port  # noqa: E402
from e2e_nats import NatsCluster, line, port_open  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
NODES = int(sys.argv[2]) if len(sys.argv) > 2 else 1
if NODES not in (1, 3):
    raise SystemExit("bench-nats: NODES is 1 or 3")
PARTITIONS = 8
TICK = os.sysconf("SC_CLK_TCK")

NATS_YAML = """
nats:
  servers: [{servers}]
  name: {name}
  partitions: %d
  replicas: %d
  ack_wait: 10s
  max_bytes: 4096m
  partition_key:
    default: host
""" % (PARTITIONS, NODES)

COLLECTOR = """
role: collector
data_dir: {{data}}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{{port}}
""" + NATS_YAML

ANALYSER = """
role: analyser
data_dir: {{data}}
http:
  listen: 127.0.0.1:{{http}}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{{port}}
""" + NATS_YAML

ALLINONE = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
"""


def cpu(pid):
    """User + system CPU seconds of process pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def scalar(d, sql):
    path = os.path.join(d.data, "hikeshi.db")
    if not os.path.exists(path):
        return 0
    con = sqlite3.connect(path, timeout=30)
    try:
        row = con.execute(sql).fetchone()
        return row[0] if row and row[0] is not None else 0
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def events(d):
    return scalar(d, "SELECT count(*) FROM events")


def published(d):
    return scalar(d, "SELECT value FROM counters WHERE name = 'nats.published'")


def send(port, lo, hi):
    s = socket.create_connection(("127.0.0.1", port))
    for a in range(lo, hi, 1000):
        s.sendall(b"".join(line(n) for n in range(a, min(a + 1000, hi))))
    s.close()


def until(pred, timeout=3600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    raise SystemExit("bench-nats: gave up waiting after %d s" % timeout)


def row(name, n, secs, cpus):
    print("%-12s %9d %9.1f %10.0f %9.1f %12.0f" % (name, n, secs, n / secs, cpus,
                                                   n / cpus if cpus else 0))


def main():
    base = tempfile.mkdtemp(prefix="hikeshi-bench-nats-")
    os.chmod(base, 0o755)
    print("bench-nats: %d records, %d NATS node(s), %d partitions, %d CPUs here, load "
          "average %.1f at the start" % (N, NODES, PARTITIONS, os.cpu_count(),
                                         os.getloadavg()[0]))
    print("%-12s %9s %9s %10s %9s %12s" % ("run", "records", "seconds", "records/s", "CPU s",
                                          "records/CPUs"))
    procs = []
    try:
        # all-in-one
        os.mkdir(os.path.join(base, "all"))
        d = Daemon(ALLINONE, workdir=os.path.join(base, "all"))
        d.start(timeout=60)
        procs.append(d)
        c0, t0 = cpu(d.proc.pid), time.monotonic()
        send(d.port, 0, N)
        until(lambda: events(d) >= N)
        row("all-in-one", N, time.monotonic() - t0, cpu(d.proc.pid) - c0)
        d.stop()

        cluster = NatsCluster(base)
        cluster.procs = [None] * 3
        for i in range(NODES):
            if NODES == 1:
                # one node: no routes to absent peers
                with open(cluster.conf(i), "w") as f:
                    f.write("server_name: n1\nlisten: 127.0.0.1:%d\njetstream { store_dir: \"%s\" }\n"
                            % (cluster.client[0], os.path.join(base, "js1")))
            cluster.start(i)
        for i in range(NODES):
            until(lambda i=i: port_open(cluster.client[i]), timeout=30)
        servers = ", ".join("nats://127.0.0.1:%d" % cluster.client[i] for i in range(NODES))
        for sub in ("col", "a1", "b1", "b2"):
            os.mkdir(os.path.join(base, sub))
        col = Daemon(COLLECTOR.format(servers=servers, name="col"),
                     workdir=os.path.join(base, "col"))
        col.start(timeout=60)
        procs.append(col)

        # collector alone: publish N and wait for the stream's acks
        c0, t0 = cpu(col.proc.pid), time.monotonic()
        send(col.port, 0, N)
        until(lambda: published(col) >= N)
        row("collector", N, time.monotonic() - t0, cpu(col.proc.pid) - c0)

        # one analyser drains the stream
        a = Daemon(ANALYSER.format(servers=servers, name="a1"), workdir=os.path.join(base, "a1"))
        t0 = time.monotonic()
        a.start(timeout=60)
        procs.append(a)
        until(lambda: events(a) >= N)
        row("1 analyser", N, time.monotonic() - t0, cpu(a.proc.pid))
        a.stop()

        # the collector fills the stream again; two analysers drain it
        send(col.port, N, 2 * N)
        until(lambda: published(col) >= 2 * N)
        two = [Daemon(ANALYSER.format(servers=servers, name="b%d" % (i + 1)),
                      workdir=os.path.join(base, "b%d" % (i + 1))) for i in range(2)]
        t0 = time.monotonic()
        for b in two:
            b.start(timeout=60)
            procs.append(b)
        until(lambda: events(two[0]) + events(two[1]) >= N)
        secs = time.monotonic() - t0
        used = [cpu(b.proc.pid) for b in two]
        row("2 analysers", N, secs, sum(used))
        print("  (split %d / %d records, %.1f / %.1f CPU s)"
              % (events(two[0]), events(two[1]), used[0], used[1]))

        # live: N more through the running collector and both analysers
        pids = [col.proc.pid] + [b.proc.pid for b in two]
        c0, t0 = sum(cpu(p) for p in pids), time.monotonic()
        send(col.port, 2 * N, 3 * N)
        until(lambda: events(two[0]) + events(two[1]) >= 2 * N)
        row("live 1+2", N, time.monotonic() - t0, sum(cpu(p) for p in pids) - c0)
        for b in two:
            b.stop()
        col.stop()
        nats_cpu = sum(cpu(p.pid) for p in cluster.procs if p)
        print("NATS server(s): %.1f CPU s for %d records in and out (%.0f records/CPU s)"
              % (nats_cpu, 3 * N, 3 * N / nats_cpu if nats_cpu else 0))
        cluster.stop_all()
        print("load average %.1f at the end (other processes share the CPUs: figures from a "
              "busy machine are lower bounds)" % os.getloadavg()[0])
    finally:
        for d in procs:
            if d.proc and d.proc.poll() is None:
                d.proc.kill()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
