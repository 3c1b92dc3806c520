#!/usr/bin/env python3
"""bench-respond.py BUILD - how long from the record that completes an SSH
brute force to the attacker's address being in the kernel's nftables set.

Runs `BUILD/hikeshi run` in a network namespace of its own (so the host's
ruleset is never touched) with a policy that blocks every brute force at
once (no dry run, limits far above the load), sends N attackers' failed
logins over one TCP syslog connection (10 lines each, the 10th completes the
correlation; attackers in groups of 50, the group's lines interleaved), and
waits until N blocks are in.  Prints the daemon's own figures (it times each
block from the arrival of the completing record to the return of the
nftables call, which is after the kernel committed the element), the wall
time, the daemon's peak RSS, and a cross-check of the set's size read with
nft.  The peer line is the kernel's own cost: the same N addresses added by
one `nft -f` file.

Needs root (namespaces, nftables); exits 77 saying why otherwise.
Environment: ATTACKERS (1000); PACE_MS (0): when set, each attacker's ten
lines are sent on their own, PACE_MS apart, so that the figure is the
latency of one brute force on a quiet daemon rather than of a burst."""

import ctypes
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NS = "hkbench%d" % os.getpid()
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def skip(why):
    print("bench-respond: SKIP: " + why)
    sys.exit(77)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def metrics(http):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'hikeshi_respond_([a-z0-9_]+)(\{quantile="([0-9.]+)"\})? ([0-9.]+)$', line)
        if m:
            key = m.group(1) + ("_q" + m.group(3) if m.group(3) else "")
            out[key] = float(m.group(4)) if "." in m.group(4) else int(m.group(4))
    return out


def set_size():
    r = subprocess.run(["nft", "-j", "list", "set", "inet", "hkbench", "b4"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return -1
    for item in json.loads(r.stdout).get("nftables", []):
        if "set" in item:
            return len(item["set"].get("elem", []))
    return 0


def addr(i):
    return "198.18.%d.%d" % (i // 250, 1 + i % 250)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(os.environ.get("ATTACKERS", "1000"))
    binary = os.path.join(build, "hikeshi")
    if os.geteuid() != 0:
        skip("needs root for a network namespace and nftables")
    if not os.path.exists(binary):
        sys.exit("bench-respond: %s not found (build first)" % binary)
    if subprocess.run(["ip", "netns", "add", NS], capture_output=True).returncode != 0:
        skip("cannot create a network namespace")
    work = tempfile.mkdtemp(prefix="hikeshi-bench-respond-")
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/run/netns/" + NS, os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:
            skip("setns failed")
        os.close(fd)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        probe = subprocess.run(["nft", "add", "table", "inet", "hkprobe"], capture_output=True,
                               text=True)
        if probe.returncode != 0:
            skip("the kernel has no usable nftables: " + probe.stderr.strip())
        subprocess.run(["nft", "delete", "table", "inet", "hkprobe"], check=True)
        return run(binary, n, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def run(binary, n, work):
    port, http = free_port(), free_port()
    with open(os.path.join(work, "respond.yaml"), "w") as f:
        f.write("dry_run: false\ninternal: [192.168.0.0/16]\n"
                "rate: {actions_per_minute: 100000, burst: %d}\nmax_blocks: %d\n"
                "ban: {base: 10m}\n"
                "block: {table: hkbench, set4: b4, set6: b6, create: true}\n"
                "rules:\n  - name: brute\n    kind: correlation\n    rule: [ssh_bruteforce]\n"
                "    actions: [block]\n" % (n + 10, n + 10))
    with open(os.path.join(work, "hikeshi.yaml"), "w") as f:
        f.write("data_dir: %s/var\ntimezone: UTC\nlog: {level: warn}\n"
                "http: {listen: 127.0.0.1:%d}\n"
                "sigma: {rules: [%s/rules], mappings: %s/rules/config}\n"
                "triage: {config: %s/rules/config/triage.yaml}\n"
                "store: {events: false}\nalerts: {jsonl: off}\n"
                "respond: {policy: %s/respond.yaml}\n"
                "inputs:\n  - {name: tcp, type: syslog-tcp, listen: 127.0.0.1:%d}\n"
                % (work, http, SRC, SRC, SRC, work, port))
    log = open(os.path.join(work, "hikeshi.log"), "w+")
    proc = subprocess.Popen([binary, "run", "-c", os.path.join(work, "hikeshi.yaml"),
                             "--log-level", "info"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        log.seek(0)
        if "ready: data in" in log.read():
            break
        if proc.poll() is not None:
            log.seek(0)
            sys.exit("bench-respond: hikeshi exited:\n" + log.read())
        time.sleep(0.05)
    g = time.gmtime()
    stamp = "%s %2d %02d:%02d:%02d" % (MONTHS[g.tm_mon - 1], g.tm_mday, g.tm_hour, g.tm_min,
                                        g.tm_sec)
    pace = float(os.environ.get("PACE_MS", "0")) / 1000.0
    per = 1 if pace else 50
    chunks = []
    for base in range(0, n, per):
        group = range(base, min(base + per, n))
        lines = []
        for k in range(10):
            for i in group:
                lines.append("<38>%s gate sshd[%d]: Failed password for root from %s port %d ssh2"
                             % (stamp, 1000 + i, addr(i), 40000 + k))
        chunks.append(("\n".join(lines) + "\n").encode())
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", port))
    for c in chunks:
        s.sendall(c)
        if pace:
            time.sleep(pace)
    s.close()
    m = {}
    last = -1
    while time.time() < t0 + 120:
        m = metrics(http)
        if m.get("blocks_total", 0) + m.get("block_failures_total", 0) >= n:
            break
        if m.get("blocks_total", 0) != last:
            last = m.get("blocks_total", 0)
        time.sleep(0.05)
    wall = time.time() - t0
    rss = 0
    with open("/proc/%d/status" % proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1])
    kernel = set_size()
    proc.send_signal(15)
    rc = proc.wait(60)

    # The peer: the kernel's own cost for the same number of elements.
    peer = os.path.join(work, "peer.nft")
    with open(peer, "w") as f:
        f.write("add table inet hkpeer\nadd set inet hkpeer b4 { type ipv4_addr; flags timeout; }\n")
        for i in range(n):
            f.write("add element inet hkpeer b4 { %s timeout 600s }\n" % addr(i))
    p0 = time.time()
    subprocess.run(["nft", "-f", peer], check=True)
    peer_s = time.time() - p0

    print("bench-respond: %d attackers x 10 failed logins over TCP syslog, one connection, %s"
          % (n, "one attacker every %g ms" % (pace * 1000) if pace else "all at once"))
    print("%-34s %s" % ("blocks / failures / refused / dropped",
                        "%d / %d / %d / %d" % (m.get("blocks_total", 0),
                                               m.get("block_failures_total", 0),
                                               m.get("refused_total", 0),
                                               m.get("dropped_total", 0))))
    print("%-34s %.2f s (%.0f blocks/s)" % ("first byte sent -> last block", wall,
                                            m.get("blocks_total", 0) / wall if wall else 0))
    print("%-34s p50 %.2f ms, p99 %.2f ms (over %d blocks)"
          % ("record arrival -> in kernel set",
             m.get("block_latency_seconds_q0.5", 0) * 1000.0,
             m.get("block_latency_seconds_q0.99", 0) * 1000.0,
             m.get("block_latency_seconds_count", 0)))
    print("%-34s %d elements" % ("cross-check: nft list set", kernel))
    print("%-34s %d KiB" % ("daemon peak RSS (VmHWM)", rss))
    print("%-34s %.3f s for %d elements (%.1f us each)" % ("peer: nft -f, one transaction",
                                                         peer_s, n, peer_s * 1e6 / n))
    print("daemon exit code: %d" % rc)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
