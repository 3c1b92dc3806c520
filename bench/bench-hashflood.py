#!/usr/bin/env python3
"""bench-hashflood.py - does hash flooding degrade triage?

Writes two sshd logs of N "Invalid user NAME from ADDR" records (one alert
each, with the entities user.name=NAME and source.ip=ADDR):

  random   NAME is random letters and digits.
  flood    NAME is crafted so that "user.name=NAME" has the same FNV-1a 64
           hash (as triage computed it) modulo 2^16 for every record: one bucket of triage's old
           FNV-indexed entity table (65,536 buckets at the default cap of
           50,000 entities; its alert and incident tables are smaller
           powers of two, so the same holds there).

Both logs have the same record count, line lengths, addresses and times; only
the names differ.  Each binary given is run on both (hikeshi scan --no-store,
best of --runs), and its records/s is read from its own summary JSON.

  bench/bench-hashflood.py [--records N] [--runs R] [--cpu] NAME=BINARY...
  e.g. bench/bench-hashflood.py before=/tmp/old/b/hikeshi after=build/hikeshi

--before REV builds hikeshi at git revision REV of this tree in a temporary
directory (git archive, meson, ninja) and adds it as "before".

--cpu times each scan by its CPU time (user + system, from wait4) instead
of the summary's wall-clock seconds, and interleaves the runs (each round
runs every binary on both logs): steadier on a machine busy with other
work, where wall-clock rates swing by a quarter.

Run it from the source root (the binaries find rules/ there).  It prints a
table; bench/README.md keeps the figures.  No thresholds: a benchmark, not a
test.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

# The offset basis triage's old hash_str started from: one digit short of the
# published FNV-1a 64 basis (14695981039346656037), which is what counts for
# where its keys landed.
FNV_OFFSET = 1469598103934665603
FNV_PRIME = 1099511628211
BITS = 16
MASK = (1 << BITS) - 1
PRIME_INV = pow(FNV_PRIME, -1, 1 << BITS)  # odd, so invertible mod 2^16
ALPHA = b"abcdefghijklmnopqrstuvwxyz0123456789"
PREFIX = b"user.name="  # how triage spells the entity it hashes


def fnv_low(data, h=FNV_OFFSET):
    """FNV-1a 64 of data, low BITS bits only (the low bits of the product
    depend only on the low bits of its factors)."""
    h &= MASK
    for c in data:
        h = ((h ^ c) * FNV_PRIME) & MASK
    return h


def suffix_table(target):
    """For each low-16-bit state, the three-character suffixes that take it
    to `target`: walk FNV backwards from the target (meet in the middle)."""
    table = {}
    for c3 in ALPHA:
        s3 = ((target * PRIME_INV) & MASK) ^ c3
        for c2 in ALPHA:
            s2 = ((s3 * PRIME_INV) & MASK) ^ c2
            for c1 in ALPHA:
                s1 = ((s2 * PRIME_INV) & MASK) ^ c1
                table.setdefault(s1, []).append(bytes((c1, c2, c3)))
    return table


def flood_names(n, rng, length=12):
    """n distinct names whose entity strings collide modulo 2^16."""
    table = suffix_table(0)
    names, seen = [], set()
    while len(names) < n:
        pre = bytes(rng.choice(ALPHA) for _ in range(length - 3))
        for suf in table.get(fnv_low(PREFIX + pre), ()):
            name = pre + suf
            if name not in seen:
                seen.add(name)
                names.append(name.decode())
    assert all(fnv_low(PREFIX + x.encode()) == 0 for x in names[:1000])
    return names[:n]


def random_names(n, rng, length=12):
    seen = set()
    while len(seen) < n:
        seen.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(length)))
    return sorted(seen, key=lambda _: rng.random())


def write_log(path, names, rng):
    with open(path, "w") as f:
        for i, name in enumerate(names):
            # a thousand records a second from 10:00:00, so that every entity
            # is still live (within the risk window) when the next arrives;
            # addresses drawn from 10/8
            t = 36000 + i // 1000
            addr = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
            f.write("Dec  6 %02d:%02d:%02d host1 sshd[123]: Invalid user %s from %s port 2222\n"
                    % (t // 3600 % 24, t // 60 % 60, t % 60, name, addr))


def scan(binary, log, workdir, cpu=False):
    """(records, seconds): the summary's wall-clock seconds, or with cpu the
    process's user + system CPU time."""
    summary = os.path.join(workdir, "summary.json")
    p = subprocess.Popen([binary, "scan", "--no-store", "-q", "-f", "jsonl", "--summary-json",
                          summary, log], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, binary)
    with open(summary) as f:
        s = json.load(f)
    return s["records"], (ru.ru_utime + ru.ru_stime) if cpu else s["seconds"]


def build_before(rev, dest):
    src = os.path.join(dest, "src")
    os.makedirs(src)
    archive = subprocess.run(["git", "archive", rev], stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
    env = dict(os.environ, CC=os.environ.get("CC", "gcc"))
    subprocess.run(["meson", "setup", "b"], cwd=src, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", "b", "hikeshi"], cwd=src, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(src, "b", "hikeshi")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--before", metavar="REV", help="build hikeshi at REV as 'before'")
    ap.add_argument("--cpu", action="store_true",
                    help="time by CPU time, runs interleaved (see above)")
    ap.add_argument("binaries", nargs="*", metavar="NAME=BINARY")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hashflood.")
    try:
        bins = []
        if a.before:
            bins.append(("before", build_before(a.before, work)))
        for x in a.binaries:
            name, _, path = x.partition("=")
            bins.append((name, path or name))
        if not bins:
            ap.error("no binary to run")
        rng = random.Random(a.seed)
        logs = {}
        for kind, names in (("random", random_names(a.records, rng)),
                            ("flood", flood_names(a.records, rng))):
            logs[kind] = os.path.join(work, kind + ".log")
            write_log(logs[kind], names, random.Random(a.seed + 1))
        # best[(binary, kind)] = (records, seconds); the runs of a round go
        # binary by binary, or with --cpu all binaries once per round.
        best = {}
        order = ([(b, r) for r in range(a.runs) for b in bins] if a.cpu
                 else [(b, r) for b in bins for r in range(a.runs)])
        for (name, binary), _ in order:
            for kind in ("random", "flood"):
                n, sec = scan(binary, logs[kind], work, a.cpu)
                if (name, kind) not in best or sec < best[(name, kind)][1]:
                    best[(name, kind)] = (n, sec)
        print("%-10s %-8s %10s %10s %12s" % ("binary", "names", "records",
                                             "cpu s" if a.cpu else "seconds",
                                             "records/cpu-s" if a.cpu else "records/s"))
        for name, _ in bins:
            rate = {}
            for kind in ("random", "flood"):
                n, sec = best[(name, kind)]
                rate[kind] = n / sec if sec > 0 else float("inf")
                print("%-10s %-8s %10d %10.3f %12.0f" % (name, kind, n, sec, rate[kind]))
            print("%-10s flood/random: %.2f" % (name, rate["flood"] / rate["random"]))
            sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
